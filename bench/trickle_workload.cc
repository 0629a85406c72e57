// The compare scenario's events, counted: 4,000 transfers in the middle of a long body, then
// 20,000 one-byte events on transfers drawn at random, each one socket_action. Run under
// callgrind's cache simulation (tools/lines-per-event.sh), it says what an event costs in
// instructions and in first-level cache lines the engine had to fetch: with this many
// transfers nothing of a transfer stays in a 32 KiB cache between its events, so the misses
// per event count the cold lines an event touches (socket index, entry, transfer, parser).
//
// Usage: trickle_workload [--transfers N] [--events N] [--sockindex chained|resizable|direct]
// Prints one JSON object: transfers, events, socket_action calls during the trickle.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "msb/multi.h"
#include "socketpair_sys.h"

namespace {

using namespace msb;

// Kept out of line, so callgrind can collect this phase alone (--toggle-collect).
[[gnu::noinline]] std::uint64_t trickle(Multi& multi, bench::SocketpairSys& sys,
                                        const std::vector<int>& fds, int events) {
  std::mt19937 rng(42);
  std::uint64_t calls = 0;
  for (int i = 0; i < events; ++i) {
    const int fd = fds[rng() % fds.size()];
    [[maybe_unused]] ssize_t w = ::write(sys.peer.at(static_cast<std::size_t>(fd)), "x", 1);
    multi.socket_action(fd, kEventIn);
    ++calls;
  }
  return calls;
}

}  // namespace

int main(int argc, char** argv) {
  int transfers = 4000, events = 20000;
  MultiOptions opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--transfers") {
      transfers = std::stoi(argv[i + 1]);
    } else if (k == "--events") {
      events = std::stoi(argv[i + 1]);
    } else if (k == "--sockindex" && parse_sockindex(argv[i + 1])) {
      opt.sockindex = *parse_sockindex(argv[i + 1]);
    } else {
      std::fprintf(stderr, "trickle_workload: bad option %s\n", argv[i]);
      return 2;
    }
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  bench::SocketpairSys sys;
  std::vector<int> fds;
  opt.sys = &sys;
  opt.instrument = false;  // the scenario's own histogram is a separate, measured cost
  opt.socket_fn = [&](int fd, int what, void*) {
    if (what == kPollIn) fds.push_back(fd);
    return 0;
  };
  opt.timer_fn = [](long) { return 0; };  // an application's timer, as every loop holds one
  Multi multi(opt);
  for (int i = 0; i < transfers; ++i) {
    TransferSpec s;
    s.url = "http://127.0.0.1:1/";
    // As the runner's workload sets one (longer than the run): every transfer has a deadline
    // in the timer queue, which each event's update_timer() asks about.
    s.total_timeout_ms = 600'000;
    multi.add(s);
  }
  multi.socket_action(kSocketTimeout, 0);
  // Every transfer in its body: what the trickle's established connections are.
  const char* head = "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n";
  for (int fd : fds) {
    [[maybe_unused]] ssize_t w =
        ::write(sys.peer.at(static_cast<std::size_t>(fd)), head, std::strlen(head));
    multi.socket_action(fd, kEventIn);
  }
  const std::uint64_t calls = trickle(multi, sys, fds, events);
  std::printf("{\"transfers\": %d, \"events\": %d, \"socket_action_calls\": %llu}\n", transfers,
              events, static_cast<unsigned long long>(calls));
  return fds.size() == static_cast<std::size_t>(transfers) ? 0 : 1;
}
