#include "msb/sys.h"

#include <unistd.h>

#include <cerrno>

namespace msb {

namespace {
SysResult result(long rc) {
  return SysResult{rc, rc < 0 ? errno : 0};
}
}  // namespace

SysResult SysCalls::socket(int domain, int type, int protocol) {
  return result(::socket(domain, type, protocol));
}
SysResult SysCalls::connect(int fd, const sockaddr* addr, socklen_t len) {
  return result(::connect(fd, addr, len));
}
SysResult SysCalls::bind(int fd, const sockaddr* addr, socklen_t len) {
  return result(::bind(fd, addr, len));
}
SysResult SysCalls::send(int fd, const void* buf, size_t len, int flags) {
  return result(::send(fd, buf, len, flags));
}
SysResult SysCalls::recv(int fd, void* buf, size_t len, int flags) {
  return result(::recv(fd, buf, len, flags));
}
SysResult SysCalls::close(int fd) {
  return result(::close(fd));
}
SysResult SysCalls::getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  return result(::getsockopt(fd, level, name, value, len));
}
SysResult SysCalls::setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  return result(::setsockopt(fd, level, name, value, len));
}
SysResult SysCalls::poll(pollfd* fds, nfds_t count, int timeout_ms) {
  return result(::poll(fds, count, timeout_ms));
}

SysCalls& SysCalls::real() {
  static SysCalls instance;
  return instance;
}

}  // namespace msb
