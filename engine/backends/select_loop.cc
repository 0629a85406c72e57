// The select() backend. Quirks, and how they are handled:
//  a) An fd_set holds fds below FD_SETSIZE (1024) only; FD_SET past it writes outside the
//     set. can_watch() refuses such an fd, the socket callback returns -1, and the engine
//     ends that transfer with watch_failed: nothing is ever written out of bounds.
//  b) select() overwrites its sets, so the wanted sets are kept apart and copied per wait.
//  c) The result says only how many fds are ready: finding them scans up to the highest fd,
//     which is the O(max fd) cost this backend exists to show.
//  d) An error or hang-up shows as readable (and writable for a failed connect); the
//     engine's recv()/SO_ERROR finds out which.
#include <sys/select.h>

#include <algorithm>

#include "msb/loop.h"

namespace msb {

namespace {

class SelectLoop final : public Loop {
 public:
  SelectLoop() {
    FD_ZERO(&want_read_);
    FD_ZERO(&want_write_);
  }
  const char* name() const override { return "select"; }

 protected:
  bool can_watch(int fd) const override { return fd >= 0 && fd < FD_SETSIZE; }

  bool modify(int fd, int /*old_what*/, int new_what) override {
    if (!can_watch(fd)) return false;
    if (new_what & kPollIn)
      FD_SET(fd, &want_read_);
    else
      FD_CLR(fd, &want_read_);
    if (new_what & kPollOut)
      FD_SET(fd, &want_write_);
    else
      FD_CLR(fd, &want_write_);
    if (new_what) {
      max_fd_ = std::max(max_fd_, fd);
    } else if (fd == max_fd_) {
      while (max_fd_ >= 0 && !FD_ISSET(max_fd_, &want_read_) && !FD_ISSET(max_fd_, &want_write_)) {
        --max_fd_;
      }
    }
    return true;
  }

  void poll(std::int64_t timeout_ns) override {
    fd_set r = want_read_, w = want_write_;
    const std::int64_t us = (timeout_ns + 999) / 1000;  // rounded up: never early
    timeval tv{us / 1'000'000, us % 1'000'000};
    const int n = ::select(max_fd_ + 1, &r, &w, nullptr, timeout_ns < 0 ? nullptr : &tv);
    if (n <= 0) return;
    // Collect first: dispatching changes the wanted sets (and max_fd_) under our feet.
    ready_.clear();
    for (int fd = 0; fd <= max_fd_ && static_cast<int>(ready_.size()) < n; ++fd) {
      const int ev = (FD_ISSET(fd, &r) ? kEventIn : 0) | (FD_ISSET(fd, &w) ? kEventOut : 0);
      if (ev) ready_.push_back({fd, ev});
    }
    dispatch_all(ready_);
  }

 private:
  fd_set want_read_;
  fd_set want_write_;
  int max_fd_ = -1;
  std::vector<ReadySocket> ready_;
};

}  // namespace

std::unique_ptr<Backend> make_select_loop() {
  return std::make_unique<SelectLoop>();
}

}  // namespace msb
