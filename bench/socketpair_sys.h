// A SysCalls for workloads run under callgrind: every socket is one end of a socketpair
// (the test keeps the other), connect() succeeds at once, and every call is counted. It
// runs inside socket_action, so it is kept cheap: callgrind counts it too.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <vector>

#include "msb/sys.h"

namespace msb::bench {

class SocketpairSys : public SysCalls {
 public:
  SysResult socket(int, int, int) override {
    ++calls;
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
      return {-1, errno};
    // Grown by doubling: growing by one cost 60 instructions per socket of the harness's own
    // inside socket_action.
    const auto need = static_cast<std::size_t>(sv[0]) + 1;
    if (need > peer.size()) peer.resize(std::max(need, 2 * peer.size()), -1);
    peer[static_cast<std::size_t>(sv[0])] = sv[1];
    return {sv[0], 0};
  }
  SysResult connect(int, const sockaddr*, socklen_t) override { return ++calls, SysResult{}; }
  SysResult setsockopt(int, int, int, const void*, socklen_t) override {
    return ++calls, SysResult{};
  }
  SysResult send(int fd, const void* b, size_t n, int f) override {
    return ++calls, SysCalls::send(fd, b, n, f);
  }
  SysResult recv(int fd, void* b, size_t n, int f) override {
    return ++calls, SysCalls::recv(fd, b, n, f);
  }
  SysResult getsockopt(int fd, int l, int n, void* v, socklen_t* len) override {
    return ++calls, SysCalls::getsockopt(fd, l, n, v, len);
  }
  SysResult close(int fd) override {
    ++calls;
    if (fd >= 0 && static_cast<std::size_t>(fd) < peer.size() && peer[fd] >= 0) {
      ::close(peer[fd]);
      peer[fd] = -1;
    }
    return SysCalls::close(fd);
  }
  std::uint64_t calls = 0;
  // The test's end of each socketpair, by the engine's end. A vector, not a map: this runs
  // inside socket_action and callgrind counts it (a std::map cost ~60 instructions a call).
  std::vector<int> peer;
};

}  // namespace msb::bench
