// Fuzzes the whole transfer state machine, not only the parser: the input is what a server
// sends, cut into reads by its first byte, delivered through a socketpair to a real Multi
// (via SysCalls), then the server closes. Whatever arrives, the transfer must end with one
// result (never hang), nothing may leak, and the engine must be left with no sockets.
// Built twice: fuzz_multi over http://, fuzz_multi_tls over https:// (MSB_FUZZ_TLS), where the
// input is the server's side of the TLS stream (verification off, so a handshake the fuzzer
// gets right may go on to HTTP).
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <map>

#include "msb/multi.h"

namespace {

class PairSys : public msb::SysCalls {
 public:
  msb::SysResult socket(int, int, int) override {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
      return {-1, errno};
    peer = sv[1];
    return {sv[0], 0};
  }
  msb::SysResult connect(int, const sockaddr*, socklen_t) override { return {}; }
  msb::SysResult setsockopt(int, int, int, const void*, socklen_t) override { return {}; }
  msb::SysResult close(int fd) override {
    if (peer >= 0) {
      ::close(peer);
      peer = -1;
    }
    return SysCalls::close(fd);
  }
  int peer = -1;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const bool head = data[0] & 0x80;
  ++data;
  --size;
  PairSys sys;
  int fd = -1;
  msb::MultiOptions opt;
  opt.sys = &sys;
  opt.max_cached_connections = 1;  // a kept-alive socket must be closed by the Multi too
  opt.tls.verify_peer = false;
  opt.socket_fn = [&fd](int s, int what, void*) {
    if (what != msb::kPollRemove) fd = s;
    return 0;
  };
  {
    msb::Multi multi(opt);
    msb::TransferSpec spec;
#ifdef MSB_FUZZ_TLS
    spec.url = "https://127.0.0.1:1/";
#else
    spec.url = "http://127.0.0.1:1/";
#endif
    spec.method = head ? "HEAD" : "GET";
    if (!multi.add(spec)) std::abort();
    multi.socket_action(msb::kSocketTimeout, 0);
    if (fd < 0 || sys.peer < 0) std::abort();
    // Send the input in pieces, letting the engine read after each.
    for (std::size_t off = 0; off < size && multi.running(); off += piece) {
      const std::size_t n = std::min(piece, size - off);
      if (::write(sys.peer, data + off, n) != static_cast<ssize_t>(n)) break;
      multi.socket_action(fd, msb::kEventIn);
    }
    if (multi.running() && sys.peer >= 0) {
      ::shutdown(sys.peer, SHUT_WR);  // the server closes: every state must now end
      for (int i = 0; i < 8 && multi.running(); ++i) multi.socket_action(fd, msb::kEventIn);
    }
    if (multi.running()) std::abort();  // a transfer left hanging after EOF
    auto done = multi.info_read();
    if (!done || multi.info_read()) std::abort();  // exactly one result
    if (done->result == msb::Result::ok && done->http_status < 200) std::abort();
  }
  if (sys.peer >= 0) std::abort();  // the Multi closed (and so released) its socket
  return 0;
}
