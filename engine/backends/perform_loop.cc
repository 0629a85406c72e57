// The legacy driver, as applications drove libcurl before multi_socket: ask the engine for
// its sockets (fdset), select() on them, then perform(), which steps every transfer. Kept
// as the O(n) baseline the design replaced. Quirks, and how they are handled:
//  a) select() cannot take an fd past FD_SETSIZE: fdset() then says so and the wait uses
//     poll() over every socket instead (pollset()), as curl_multi_wait() does, so this
//     baseline reaches the same connection counts as the other backends.
//  b) No socket or timer callbacks: the wait is bounded by Multi::timeout() instead.
//  c) Rebuilding the sets each iteration is part of what is measured: it is the design.
#include <poll.h>
#include <sys/select.h>

#include <algorithm>

#include "loop.h"

namespace msb {

namespace {

class PerformLoop final : public Loop {
 public:
  const char* name() const override { return "perform"; }

  int run_once(int max_wait_ms) override {
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

 protected:
  bool uses_callbacks() const override { return false; }
  bool modify(int, int, int) override { return true; }
  void poll(int) override {}

 private:
  std::vector<pollfd> fds_;
};

}  // namespace

std::unique_ptr<Loop> make_perform_loop() { return std::make_unique<PerformLoop>(); }

}  // namespace msb
