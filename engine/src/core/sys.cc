#include "msb/sys.h"

#include <unistd.h>

namespace msb {

int SysCalls::socket(int domain, int type, int protocol) {
  return ::socket(domain, type, protocol);
}
int SysCalls::connect(int fd, const sockaddr* addr, socklen_t len) {
  return ::connect(fd, addr, len);
}
ssize_t SysCalls::send(int fd, const void* buf, size_t len, int flags) {
  return ::send(fd, buf, len, flags);
}
ssize_t SysCalls::recv(int fd, void* buf, size_t len, int flags) {
  return ::recv(fd, buf, len, flags);
}
int SysCalls::close(int fd) { return ::close(fd); }
int SysCalls::getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  return ::getsockopt(fd, level, name, value, len);
}
int SysCalls::setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  return ::setsockopt(fd, level, name, value, len);
}

SysCalls& SysCalls::real() {
  static SysCalls instance;
  return instance;
}

}  // namespace msb
