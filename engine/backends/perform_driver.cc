// The legacy driver, as applications drove libcurl before multi_socket: ask the engine for
// its sockets (fdset), select() on them, then perform(), which steps every transfer. Kept
// as the O(n) baseline the design replaced. It is a Backend but not a Loop: it takes no
// socket or timer callbacks. Quirks, and how they are handled:
//  a) select() cannot take an fd past FD_SETSIZE: fdset() then says so and the wait uses
//     poll() over every socket instead (pollset()), as curl_multi_wait() does, so this
//     baseline reaches the same connection counts as the other backends.
//  b) No socket or timer callbacks: the wait is bounded by Multi::timeout() instead.
//  c) Rebuilding the sets each iteration is part of what is measured: it is the design.
#include <poll.h>
#include <sys/select.h>

#include <algorithm>

#include "msb/backend.h"

namespace msb {

namespace {

class PerformDriver final : public Backend {
 public:
  const char* name() const override { return "perform"; }

  std::unique_ptr<Multi> make_multi(MultiOptions options) override {
    // Callbacks in `options` only observe: nothing here waits on what they say.
    auto multi = std::make_unique<Multi>(std::move(options));
    multi_ = multi.get();
    return multi;
  }

  int run_once_ns(std::int64_t max_wait_ns) override {
    if (!multi_) return 0;
    // The engine's timeout is in ms (as curl_multi_timeout's): so is this driver's wait.
    const long max_wait_ms =
        max_wait_ns < 0 ? -1 : static_cast<long>((max_wait_ns + 999'999) / 1'000'000);
    long wait = multi_->timeout();
    if (wait < 0 || (max_wait_ms >= 0 && wait > max_wait_ms)) wait = max_wait_ms;
    ++stats_.waits;
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    int max_fd = -1;
    int ready;
    if (multi_->fdset(&r, &w, &max_fd)) {
      timeval tv{wait / 1000, (wait % 1000) * 1000};
      ready = ::select(max_fd + 1, &r, &w, nullptr, wait < 0 ? nullptr : &tv);
    } else {
      multi_->pollset(fds_);
      ready = ::poll(fds_.data(), fds_.size(), static_cast<int>(wait));
    }
    if (ready > 0) stats_.events += static_cast<std::uint64_t>(ready);
    multi_->perform();
    return std::max(ready, 0);
  }

  const LoopStats& stats() const override { return stats_; }

 private:
  Multi* multi_ = nullptr;
  LoopStats stats_;
  std::vector<pollfd> fds_;
};

}  // namespace

std::unique_ptr<Backend> make_perform_driver() {
  return std::make_unique<PerformDriver>();
}

}  // namespace msb
