// The callback-driven backends: the application side of the multi_socket API.
//
// A loop backend is two functions, as in libev: modify(fd, old, new) changes what the kernel
// watches, and poll(timeout) waits once and hands each ready fd to dispatch(). Everything
// else is here, shared: the socket callback lands in watch(), which coalesces changes so
// each fd's mask is applied at most once per iteration (libev's fd_change/fd_reify); the
// timer callback lands in set_timer(); run_once() is one loop iteration.
//
// REMOVE is applied at once rather than coalesced: the engine reports it just before it
// closes the socket, and after the close the fd number may be reused by the next socket.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "msb/backend.h"
#include "msb/multi.h"

namespace msb {

// What a loop hands its events to: socket_action's two forms. make_multi() connects a
// Multi; the runner's reference engines (libcurl, the bare-recv floor) attach themselves.
class LoopTarget {
 public:
  virtual ~LoopTarget() = default;
  virtual void on_socket(int fd, int events) = 0;  // socket_action(fd, events)
  virtual void on_timeout() = 0;                   // socket_action(kSocketTimeout, 0)
  // on_socket(fd) follows, two dispatches later (Multi::prefetch); ignored unless useful.
  virtual void ahead(int /*fd*/) {}
};

// One socket a wait found ready, with what it is ready for (kEvent bits).
struct ReadySocket {
  int fd = -1;
  int events = 0;
};

class Loop : public Backend {
 public:
  // A Multi whose socket and timer callbacks feed this loop.
  std::unique_ptr<Multi> make_multi(MultiOptions options) override;
  // Drives `target` instead of a Multi: its sockets go through watch(), its timer through
  // set_timer().
  void attach(LoopTarget* target);
  Loop* loop() override { return this; }

  // The socket callback's target: what the engine wants of fd. Returns -1 if this backend
  // cannot watch fd (select past FD_SETSIZE).
  int watch(int fd, int what);
  // The timer callback's target: ms from now, or -1 to delete.
  virtual void set_timer(long ms);
  // One iteration: applies pending changes, waits at most max_wait_ms (less if the timer
  // is due sooner), dispatches ready sockets and then the timer. Returns the dispatches.
  int run_once_ns(std::int64_t max_wait_ns) override;

  const LoopStats& stats() const override { return stats_; }
  void set_coalescing(std::int64_t ns) override { coalesce_ns_ = ns; }

 protected:
  // What the kernel/loop should watch on fd changes from old_what to new_what (each a
  // kPoll mask; 0 means not watched). Returns false if the backend cannot watch fd.
  virtual bool modify(int fd, int old_what, int new_what) = 0;
  // Waits at most timeout_ns (-1: no limit) and calls dispatch() for each ready socket.
  virtual void poll(std::int64_t timeout_ns) = 0;
  // Whether modify() could ever accept fd.
  virtual bool can_watch(int /*fd*/) const { return true; }

  // Applies what watch() collected since the last iteration, once per fd.
  void apply_changes();
  void dispatch(int fd, int events);
  // dispatch() for each of one wait's ready sockets in order, naming each to the target
  // (ahead()) two dispatches before its own.
  void dispatch_all(std::span<const ReadySocket> ready);
  // Nanoseconds until the timer, clamped to max_wait_ns; -1 only if both are "forever".
  std::int64_t wait_ns(std::int64_t max_wait_ns) const;
  void fire_timer_if_due();

  LoopTarget* target_ = nullptr;
  LoopStats stats_;

 private:
  std::unique_ptr<LoopTarget> multi_target_;  // make_multi()'s adapter
  // One record per fd, in one vector, so that growing it either succeeds or changes nothing
  // (watch() may run out of memory and must then leave the loop consistent).
  struct FdState {
    std::uint8_t applied = 0;     // the mask the backend has now
    std::uint8_t wanted = 0;      // the mask the engine asked for
    std::uint8_t is_changed = 0;  // queued in changed_
  };
  std::vector<FdState> fds_;
  std::vector<int> changed_;  // fds whose wanted mask changed this iteration
  bool timer_armed_ = false;
  std::int64_t timer_at_ns_ = 0;
  std::int64_t coalesce_ns_ = 0;
  bool busy_ = false;  // the last iteration dispatched something
};

}  // namespace msb
