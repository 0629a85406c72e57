// socket_action() on one ready socket among N registered: the engine's whole per-event path
// (socket index lookup, state machine, one recv of one byte, parser, timer check), with no
// network: the engine's sockets are socketpairs, handed to it through SysCalls. Only the
// socket_action call is timed (manual time); writing the byte to the peer is not.
//
// Inputs: socket-index variant (chained-911, resizable, direct) x N (100 .. 9,000: each
// transfer takes two fds and one process may have 20,000 here; lookup cost at 100k and 1M
// is bench_sockindex's) x instrumentation (on/off: the histogram's own cost).
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "msb/multi.h"

namespace msb {
namespace {

// The engine's socket() gets one end of a fresh socketpair, already "connected".
class SocketpairSys : public SysCalls {
 public:
  SysResult socket(int, int, int) override {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
      return {-1, errno};
    peer_[sv[0]] = sv[1];
    return {sv[0], 0};
  }
  SysResult connect(int, const sockaddr*, socklen_t) override { return {}; }
  SysResult setsockopt(int, int, int, const void*, socklen_t) override { return {}; }
  SysResult close(int fd) override {
    auto it = peer_.find(fd);
    if (it != peer_.end()) {
      ::close(it->second);
      peer_.erase(it);
    }
    return SysCalls::close(fd);
  }
  int peer(int fd) const { return peer_.at(fd); }

 private:
  std::map<int, int> peer_;
};

std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

void raise_fd_limit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

// Each socket index by name: benchmark names say which one they measured
// (BM_SocketActionOneReady/resizable/n:1000/instrument:1).
const std::pair<SockIndexKind, const char*> kKinds[] = {{SockIndexKind::chained, "chained-911"},
                                                        {SockIndexKind::resizable, "resizable"},
                                                        {SockIndexKind::direct, "direct"}};

// args: N, instrument (0/1)
void BM_SocketActionOneReady(benchmark::State& state, SockIndexKind kind) {
  raise_fd_limit();
  const int n = static_cast<int>(state.range(0));
  SocketpairSys sys;
  std::vector<int> fds;
  MultiOptions opt;
  opt.sys = &sys;
  opt.sockindex = kind;
  opt.sockindex_buckets = 911;
  opt.instrument = state.range(1) != 0;
  opt.socket_fn = [&fds](int fd, int what, void*) {
    if (what == kPollIn) fds.push_back(fd);  // request sent: the transfer waits to read
    return 0;
  };
  Multi multi(opt);
  for (int i = 0; i < n; ++i) {
    TransferSpec s;
    s.url = "http://127.0.0.1:1/";
    if (!multi.add(s)) throw std::runtime_error("add failed");
  }
  multi.socket_action(kSocketTimeout, 0);  // starts them all: connect, send the request
  if (static_cast<int>(fds.size()) != n) {
    state.SkipWithError("not every transfer reached its socket (fd limit?)");
    return;
  }
  // Every transfer gets its response headers (an endless body), then waits for bytes.
  static const char kHead[] = "HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n";
  for (int fd : fds) {
    [[maybe_unused]] ssize_t w = ::write(sys.peer(fd), kHead, sizeof kHead - 1);
    multi.socket_action(fd, kEventIn);
  }
  std::size_t i = 0;
  char sink[256];
  for (auto _ : state) {
    const int fd = fds[i];
    if (++i == fds.size()) i = 0;
    [[maybe_unused]] ssize_t w = ::write(sys.peer(fd), "x", 1);
    const std::int64_t t0 = now_ns();
    multi.socket_action(fd, kEventIn);
    state.SetIterationTime(double(now_ns() - t0) / 1e9);
    // Each peer also holds the request the engine sent; keep its buffer from filling.
    [[maybe_unused]] ssize_t r = ::recv(sys.peer(fd), sink, sizeof sink, MSG_DONTWAIT);
  }
  if (multi.running() != n) state.SkipWithError("a transfer ended during the benchmark");
  const MultiStats s = multi.stats();
  state.counters["probes"] = s.sockindex.probes_per_lookup();
  state.SetItemsProcessed(state.iterations());
}

int register_all() {
  for (const auto& [kind, name] : kKinds) {
    auto* b = benchmark::RegisterBenchmark((std::string("BM_SocketActionOneReady/") + name).c_str(),
                                           BM_SocketActionOneReady, kind);
    b->ArgNames({"n", "instrument"})->UseManualTime();
    for (long n : {100L, 1000L, 4000L, 9000L}) {
      for (int inst : {1, 0}) b->Args({n, inst});
    }
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace msb

BENCHMARK_MAIN();
