// The libev backend: Debian's libev, its own loop, io watchers and timer. Quirks, and how
// they are handled:
//  a) An io watcher must be stopped before its fd is closed (libev may otherwise keep a
//     stale registration in its kernel backend). The engine reports REMOVE before it closes
//     and Loop applies REMOVE at once, so ev_io_stop always comes first.
//  b) ev_io_set() must not touch an active watcher: a mask change is stop, set, start.
//  c) libev picks its kernel backend itself (epoll here): what this measures is libev's
//     watcher bookkeeping on top of it, as an application using libev would see.
//  d) ev_run(EVRUN_ONCE) waits without a limit: a second timer bounds each iteration.
//  e) ev_now() is the time the iteration started; the engine keeps its own clock, so
//     libev's cached time never skews the engine's deadlines.
#include <ev.h>

#include <memory>
#include <stdexcept>

#include "msb/loop.h"

namespace msb {

namespace {

class LibevLoop final : public Loop {
 public:
  LibevLoop() : loop_(ev_loop_new(EVFLAG_AUTO)) {
    if (!loop_) throw std::runtime_error("libev: ev_loop_new failed");
    ev_init(&engine_timer_, &LibevLoop::on_timer);
    engine_timer_.data = this;
    ev_init(&bound_timer_, &LibevLoop::on_bound);
    bound_timer_.data = this;
  }
  ~LibevLoop() override {
    for (auto& w : io_) {
      if (w) ev_io_stop(loop_, w.get());
    }
    ev_timer_stop(loop_, &engine_timer_);
    ev_timer_stop(loop_, &bound_timer_);
    ev_loop_destroy(loop_);
  }
  const char* name() const override { return "libev"; }

  void set_timer(long ms) override {
    ev_timer_stop(loop_, &engine_timer_);
    if (ms < 0) return;
    ev_timer_set(&engine_timer_, static_cast<double>(ms) / 1000.0, 0.0);
    ev_timer_start(loop_, &engine_timer_);
  }

  int run_once_ns(std::int64_t max_wait_ns) override {
    apply_changes();
    const std::uint64_t before = stats_.events + stats_.timer_fires;
    ++stats_.waits;
    if (max_wait_ns >= 0) {
      ev_timer_set(&bound_timer_, static_cast<double>(max_wait_ns) / 1e9, 0.0);
      ev_timer_start(loop_, &bound_timer_);
    }
    ev_run(loop_, EVRUN_ONCE);
    ev_timer_stop(loop_, &bound_timer_);
    return static_cast<int>(stats_.events + stats_.timer_fires - before);
  }

 protected:
  bool modify(int fd, int old_what, int new_what) override {
    const auto i = static_cast<std::size_t>(fd);
    if (i >= io_.size()) io_.resize(std::max(i + 1, io_.size() * 2));
    if (!io_[i]) {
      io_[i] = std::make_unique<ev_io>();
      ev_init(io_[i].get(), &LibevLoop::on_io);
      io_[i]->data = this;
    }
    ev_io* w = io_[i].get();
    if (old_what) ev_io_stop(loop_, w);
    if (new_what) {
      ev_io_set(w, fd,
                ((new_what & kPollIn) ? EV_READ : 0) | ((new_what & kPollOut) ? EV_WRITE : 0));
      ev_io_start(loop_, w);
    }
    return true;
  }

  void poll(std::int64_t) override {}  // run_once_ns() is libev's own

 private:
  static void on_io(struct ev_loop*, ev_io* w, int revents) {
    int ev = 0;
    if (revents & EV_READ) ev |= kEventIn;
    if (revents & EV_WRITE) ev |= kEventOut;
    if (revents & EV_ERROR) ev |= kEventErr;
    static_cast<LibevLoop*>(w->data)->dispatch(w->fd, ev);
  }
  static void on_timer(struct ev_loop*, ev_timer* w, int) {
    auto* self = static_cast<LibevLoop*>(w->data);
    ++self->stats_.timer_fires;
    self->target_->on_timeout();
  }
  static void on_bound(struct ev_loop*, ev_timer*, int) {}

  struct ev_loop* loop_;
  std::vector<std::unique_ptr<ev_io>> io_;  // by fd, reused for the fd's next socket
  ev_timer engine_timer_;
  ev_timer bound_timer_;
};

}  // namespace

std::unique_ptr<Backend> make_libev_loop() {
  return std::make_unique<LibevLoop>();
}

}  // namespace msb
