// The system calls the engine makes on sockets, behind a thin interface.
//
// Each returns {rc, err}: the error travels with the result, never through the global
// errno (which any call in between, a logging line or an allocation, may overwrite).
// Production uses the real calls; tests substitute a subclass to observe calls (e.g. that
// a socket is reported REMOVE before it is closed) or to inject failures (EMFILE, ENOMEM).
// A virtual call costs about a nanosecond next to a syscall's microseconds.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace msb {

struct SysResult {
  long rc = 0;  // what the call returned (an fd, a byte count, 0); negative on failure
  int err = 0;  // errno when rc < 0, else 0
  bool failed() const { return rc < 0; }
};

class SysCalls {
 public:
  virtual ~SysCalls() = default;
  virtual SysResult socket(int domain, int type, int protocol);
  virtual SysResult connect(int fd, const sockaddr* addr, socklen_t len);
  virtual SysResult bind(int fd, const sockaddr* addr, socklen_t len);
  virtual SysResult send(int fd, const void* buf, size_t len, int flags);
  virtual SysResult recv(int fd, void* buf, size_t len, int flags);
  virtual SysResult close(int fd);
  virtual SysResult getsockopt(int fd, int level, int name, void* value, socklen_t* len);
  virtual SysResult setsockopt(int fd, int level, int name, const void* value, socklen_t len);
  virtual SysResult poll(pollfd* fds, nfds_t count, int timeout_ms);

  // The process-wide instance that makes the real calls.
  static SysCalls& real();
};

}  // namespace msb
