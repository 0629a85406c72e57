// A fixed workload whose counts are exact for a given build and seed: what the CI gate
// compares against bench/baselines/. No clocks, no network: the socket index and timers get
// a seeded sequence of operations, and a real Multi runs transfers over socketpairs
// (through SysCalls, which also counts the system calls).
//
// Usage: gate_workload [--sockindex NAME] [--buckets N] [--timers NAME]
// Prints one JSON object of metrics. The options exist to inject a regression on purpose
// (e.g. --sockindex chained --buckets 7), which is how the gate itself is tested.
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "msb/multi.h"
#include "socketpair_sys.h"
#include "sockindex/sockindex.h"
#include "timers/timer_queue.h"

namespace {

using namespace msb;

struct Options {
  SockIndexKind sockindex = SockIndexKind::resizable;
  unsigned buckets = 911;
  TimerKind timers = TimerKind::splay;
};

using CountingSys = bench::SocketpairSys;

// The engine end to end: 2,000 transfers, each fed its response in 4 pieces.
std::map<std::string, double> engine_metrics(const Options& o) {
  constexpr int kTransfers = 2000;
  CountingSys sys;
  std::vector<int> reading;
  std::uint64_t callbacks = 0;
  MultiOptions opt;
  opt.sys = &sys;
  opt.sockindex = o.sockindex;
  opt.sockindex_buckets = o.buckets;
  opt.timers = o.timers;
  opt.instrument = false;
  opt.max_cached_connections = 0;
  opt.socket_fn = [&](int fd, int what, void*) {
    ++callbacks;
    if (what == kPollIn) reading.push_back(fd);
    return 0;
  };
  Multi multi(opt);
  for (int i = 0; i < kTransfers; ++i) {
    TransferSpec s;
    s.url = "http://127.0.0.1:1/";
    s.total_timeout_ms = 600000;  // queued in the timers, never reached
    multi.add(s);
  }
  multi.socket_action(kSocketTimeout, 0);
  const std::uint64_t calls_before = sys.calls;
  const char* pieces[] = {"HTTP/1.1 200 OK\r\nContent-", "Length: 10\r\n\r\n", "01234", "56789"};
  std::uint64_t events = 0;
  for (const char* piece : pieces) {
    for (int fd : reading) {
      [[maybe_unused]] ssize_t w = ::write(sys.peer.at(fd), piece, std::strlen(piece));
      multi.socket_action(fd, kEventIn);
      ++events;
    }
  }
  int ok = 0;
  while (auto d = multi.info_read()) ok += d->result == Result::ok && d->body_bytes == 10;
  const MultiStats s = multi.stats();
  return {
      {"engine.transfers_ok", ok},
      {"engine.socket_callbacks_per_transfer", double(callbacks) / kTransfers},
      {"engine.timer_ops_per_transfer", double(s.timers.ops()) / kTransfers},
      {"engine.syscalls_per_event", double(sys.calls - calls_before) / double(events)},
      {"engine.probes_per_lookup", s.sockindex.probes_per_lookup()},
      {"engine.socket_action_calls", double(s.socket_action_calls)},
  };
}

std::map<std::string, double> sockindex_metrics(const Options& o) {
  auto index = detail::make_sockindex(o.sockindex, o.buckets);
  std::vector<int> fds(10000);
  for (int i = 0; i < 10000; ++i) fds[static_cast<std::size_t>(i)] = i;
  std::shuffle(fds.begin(), fds.end(), std::mt19937(42));
  for (int fd : fds) index->insert(fd);
  for (int fd : fds) index->find(fd);
  return {{"sockindex.probes_per_lookup_10k", index->stats().probes_per_lookup()}};
}

std::map<std::string, double> timer_metrics(const Options& o) {
  auto q = detail::make_timer_queue(o.timers);
  std::vector<detail::TimerNode> nodes(10000);
  std::mt19937_64 rng(7);
  std::int64_t now = 0;
  for (auto& n : nodes) q->insert(&n, now + static_cast<std::int64_t>(rng() % 100000));
  for (int i = 0; i < 100000; ++i) {  // re-arm, pop, re-insert: an engine's mix
    detail::TimerNode& n = nodes[rng() % nodes.size()];
    if (n.queued) q->remove(&n);
    q->insert(&n, now + 100000);
    now += 1;
    if (detail::TimerNode* p = q->pop_expired(now)) q->insert(p, now + 50000);
  }
  const TimerStats s = q->stats();
  return {{"timers.rotations_per_op", double(s.rotations) / double(s.ops())},
          {"timers.steps_per_op", double(s.steps) / double(s.ops())}};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--sockindex" && parse_sockindex(v))
      o.sockindex = *parse_sockindex(v);
    else if (k == "--buckets")
      o.buckets = static_cast<unsigned>(std::stoul(v));
    else if (k == "--timers" && parse_timer(v))
      o.timers = *parse_timer(v);
    else {
      std::fprintf(stderr, "gate_workload: bad option %s %s\n", k.c_str(), v.c_str());
      return 2;
    }
  }
  // fd numbers decide hash buckets: start from the same descriptors whoever runs us
  // (ctest, a shell, CI), or the counts would depend on what the parent left open.
  ::close_range(3, ~0U, 0);
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  std::map<std::string, double> all;
  for (auto& part : {engine_metrics(o), sockindex_metrics(o), timer_metrics(o)})
    all.insert(part.begin(), part.end());
  std::printf("{\"schema\": \"msbench-gate-metrics\", \"metrics\": {");
  const char* sep = "";
  for (const auto& [k, v] : all) {
    std::printf("%s\"%s\": %.6f", sep, k.c_str(), v);
    sep = ", ";
  }
  std::printf("}}\n");
  return 0;
}
