// What drives a Multi, and the registry of every way msbench can do it.
//
// A backend owns the waiting: either an event loop fed by the multi_socket callbacks
// (select, poll, epoll, libev: see loop.h), or the legacy driver that asks the engine for
// all its sockets and calls perform() (perform_driver.cc). The runner and the tests hold a
// Backend and never need to know which kind it is; the reference engines (libcurl, the
// floor) need the callback kind, and ask for it through loop().
//
// Adding a backend is one file (its class and a make_ function) and one row in the
// registry (backends.cc): scenario keys, `msbench keys`, the runner's per-process capacity
// and every backend-parameterised test read the registry.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "msb/fields.h"
#include "msb/multi.h"

namespace msb {

class Loop;

struct LoopStats {
  std::uint64_t waits = 0;
  std::uint64_t events = 0;
  std::uint64_t timer_fires = 0;
  std::uint64_t modifies = 0;
  std::uint64_t redundant = 0;
  double events_per_wait() const { return waits ? double(events) / double(waits) : 0; }
};

inline const FieldTable<LoopStats>& loop_fields() {
  using L = LoopStats;
  static const FieldTable<L> t = {
      {"waits", &L::waits, Rule::measured, "count",
       "calls that waited (epoll_wait, poll, select, ev_run)"},
      {"events", &L::events, Rule::measured, "count",
       "ready sockets dispatched into socket_action"},
      {"timer_fires", &L::timer_fires, Rule::measured, "count",
       "socket_action(kSocketTimeout) calls"},
      {"modifies", &L::modifies, Rule::measured, "count",
       "changes applied to the kernel's (or libev's) interest set"},
      {"redundant", &L::redundant, Rule::measured, "count",
       "watch() calls that left the applied mask unchanged"},
  };
  return t;
}

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // Creates a Multi driven by this backend. Callbacks already in `options` still run
  // first (to observe them; a socket callback returning -1 there refuses the socket,
  // which is how tests inject watch failures).
  virtual std::unique_ptr<Multi> make_multi(MultiOptions options) = 0;
  // One iteration: waits at most max_wait_ns (less if a timeout is due sooner; -1: no
  // limit), then dispatches what is ready. Returns the number of dispatches. The wait is as
  // precise as the backend's system call allows (epoll_pwait2, ppoll: nanoseconds; select:
  // microseconds): an open-model load sends each request when it is due, not in the next
  // millisecond.
  virtual int run_once_ns(std::int64_t max_wait_ns) = 0;
  // The same, in milliseconds.
  int run_once(int max_wait_ms) {
    return run_once_ns(max_wait_ms < 0 ? -1 : std::int64_t{max_wait_ms} * 1'000'000);
  }
  virtual const LoopStats& stats() const = 0;

  // Wakeup coalescing: while events keep coming, a wait first looks (without blocking), and
  // if nothing is ready naps up to `ns` before it blocks, so that a burst of responses is
  // handled in one wakeup. Against a server on the same machine this matters: a client
  // that is asleep when a response is sent costs the server a wakeup (measured against
  // nginx on loopback: 24.5 us of nginx CPU per request with every response waking the
  // client, 20 us with a 20 us nap; see tools/bench-load.py). It adds up to `ns` to a
  // response's observed latency, so the closed-model load turns it on and the open model,
  // whose point is exact latency, does not. 0 (the default): off.
  virtual void set_coalescing(std::int64_t ns) { (void)ns; }

  // The callback-driven loop behind this backend, for code that feeds it sockets of its
  // own (the reference engines); null for a backend without callbacks (perform).
  virtual Loop* loop() { return nullptr; }
};

struct BackendInfo {
  const char* name;
  std::unique_ptr<Backend> (*make)();
  // Watchable fds are below this (select: FD_SETSIZE); 0: no limit of the backend's own.
  int fd_cap;
  // Driven through the socket and timer callbacks (and so usable by the reference engines).
  bool callbacks;
  const char* summary;  // one line for `msbench keys` and the README
};

// Every backend, in the order sweeps and tests list them.
const std::vector<BackendInfo>& backends();
const BackendInfo* find_backend(const std::string& name);
std::vector<std::string> backend_names();
// Throws std::invalid_argument listing the known names for an unknown one, and
// std::runtime_error if the backend cannot start here (e.g. the kernel lacks it).
std::unique_ptr<Backend> make_backend(const std::string& name);
// Why a known backend cannot start here (io_uring under a seccomp filter), or "" if it can.
std::string backend_unavailable(const std::string& name);

}  // namespace msb
