// The system calls the engine makes on sockets, behind a thin interface.
//
// Production uses the real ones; tests substitute a subclass to observe calls (e.g. that a
// socket is reported REMOVE before it is closed) or to inject failures (EMFILE, ENOMEM).
// A virtual call costs about a nanosecond next to a syscall's microseconds.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

namespace msb {

class SysCalls {
 public:
  virtual ~SysCalls() = default;
  virtual int socket(int domain, int type, int protocol);
  virtual int connect(int fd, const sockaddr* addr, socklen_t len);
  virtual ssize_t send(int fd, const void* buf, size_t len, int flags);
  virtual ssize_t recv(int fd, void* buf, size_t len, int flags);
  virtual int close(int fd);
  virtual int getsockopt(int fd, int level, int name, void* value, socklen_t* len);
  virtual int setsockopt(int fd, int level, int name, const void* value, socklen_t len);

  // The process-wide instance that makes the real calls.
  static SysCalls& real();
};

}  // namespace msb
