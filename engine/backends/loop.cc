#include "msb/loop.h"

#include <time.h>

#include <algorithm>
#include <stdexcept>

namespace msb {

namespace {
std::int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
// make_multi()'s target: the events go straight into the Multi.
class MultiTarget final : public LoopTarget {
 public:
  explicit MultiTarget(Multi* m) : multi_(m) {}
  void on_socket(int fd, int events) override { multi_->socket_action(fd, events); }
  void on_timeout() override { multi_->socket_action(kSocketTimeout, 0); }
  void ahead(int fd) override { multi_->prefetch(fd); }

 private:
  Multi* multi_;
};

}  // namespace

void Loop::attach(LoopTarget* target) {
  target_ = target;
}

std::unique_ptr<Multi> Loop::make_multi(MultiOptions options) {
  auto observe_socket = std::move(options.socket_fn);
  auto observe_timer = std::move(options.timer_fn);
  options.socket_fn = [this, observe_socket](int fd, int what, void* p) {
    const int refused = observe_socket ? observe_socket(fd, what, p) : 0;
    if (refused && what != kPollRemove) return refused;
    return watch(fd, what);
  };
  options.timer_fn = [this, observe_timer](long ms) {
    if (observe_timer) observe_timer(ms);
    set_timer(ms);
  };
  auto multi = std::make_unique<Multi>(std::move(options));
  multi_target_ = std::make_unique<MultiTarget>(multi.get());
  target_ = multi_target_.get();
  return multi;
}

int Loop::watch(int fd, int what) {
  if (fd < 0) return -1;
  if (what != kPollRemove && !can_watch(fd)) return -1;
  const auto i = static_cast<std::size_t>(fd);
  if (what == kPollRemove) {
    // At once: the socket is about to be closed and its number may come back.
    if (i < fds_.size() && fds_[i].applied) {
      modify(fd, fds_[i].applied, 0);
      ++stats_.modifies;
    } else {
      ++stats_.redundant;
    }
    if (i < fds_.size()) fds_[i].applied = fds_[i].wanted = 0;
    return 0;
  }
  if (i >= fds_.size()) fds_.resize(std::max<std::size_t>(i + 1, fds_.size() * 2));
  FdState& s = fds_[i];
  if (!s.is_changed) {
    changed_.push_back(fd);  // before the flag: if it throws, nothing has changed
    s.is_changed = 1;
  }
  s.wanted = static_cast<std::uint8_t>(what);
  return 0;
}

void Loop::apply_changes() {
  for (int fd : changed_) {
    FdState& s = fds_[static_cast<std::size_t>(fd)];
    s.is_changed = 0;
    if (s.wanted == s.applied) {
      ++stats_.redundant;
      continue;
    }
    if (modify(fd, s.applied, s.wanted)) s.applied = s.wanted;
    ++stats_.modifies;
  }
  changed_.clear();
}

void Loop::set_timer(long ms) {
  timer_armed_ = ms >= 0;
  if (timer_armed_) timer_at_ns_ = mono_ns() + static_cast<std::int64_t>(ms) * 1'000'000;
}

std::int64_t Loop::wait_ns(std::int64_t max_wait_ns) const {
  if (!timer_armed_) return max_wait_ns;
  const std::int64_t d = std::max<std::int64_t>(0, timer_at_ns_ - mono_ns());
  return max_wait_ns < 0 ? d : std::min(d, max_wait_ns);
}

void Loop::dispatch(int fd, int events) {
  ++stats_.events;
  target_->on_socket(fd, events);
}

void Loop::dispatch_all(std::span<const ReadySocket> ready) {
  // Two ahead: the Multi loads a named socket's entry at once and its transfer during the
  // next dispatch, so both are in the cache when its own comes. The first socket is not
  // named: its dispatch follows at once, with nothing to overlap the load with.
  const std::size_t n = ready.size();
  for (std::size_t i = 1; i < n && i < 3; ++i) target_->ahead(ready[i].fd);
  for (std::size_t i = 0; i < n; ++i) {
    if (i >= 1 && i + 2 < n) target_->ahead(ready[i + 2].fd);
    dispatch(ready[i].fd, ready[i].events);
  }
}

void Loop::fire_timer_if_due() {
  if (timer_armed_ && mono_ns() >= timer_at_ns_) {
    timer_armed_ = false;
    ++stats_.timer_fires;
    target_->on_timeout();
  }
}

int Loop::run_once_ns(std::int64_t max_wait_ns) {
  apply_changes();
  const std::uint64_t before = stats_.events + stats_.timer_fires;
  ++stats_.waits;
  std::int64_t wait = wait_ns(max_wait_ns);
  if (coalesce_ns_ > 0 && busy_ && wait != 0) {
    // Look first; if nothing is ready, nap instead of blocking at once (see set_coalescing).
    poll(0);
    if (stats_.events == before) {
      const std::int64_t nap = wait < 0 ? coalesce_ns_ : std::min(wait, coalesce_ns_);
      const timespec ts{0, static_cast<long>(nap)};
      nanosleep(&ts, nullptr);
      wait = wait < 0 ? -1 : wait - nap;
      poll(wait);
    }
  } else {
    poll(wait);
  }
  fire_timer_if_due();
  busy_ = stats_.events + stats_.timer_fires > before;
  return static_cast<int>(stats_.events + stats_.timer_fires - before);
}

}  // namespace msb
