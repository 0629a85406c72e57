// The poll() backend. Quirks, and how they are handled:
//  a) No FD_SETSIZE limit, but the kernel walks the whole array on every call, and so do
//     we to find the ready entries: O(n) per wait, the cost this backend exists to show.
//  b) The array is kept dense: an fd's slot is found through a by-fd position table, and a
//     removed entry is replaced by the last one (swap-remove), so modify() is O(1).
//  c) POLLERR, POLLHUP and POLLNVAL come back whether asked for or not; they become
//     kEventErr and the engine's recv()/SO_ERROR says what happened.
#include <poll.h>

#include "msb/loop.h"

namespace msb {

namespace {

class PollLoop final : public Loop {
 public:
  const char* name() const override { return "poll"; }

 protected:
  bool modify(int fd, int old_what, int new_what) override {
    const auto i = static_cast<std::size_t>(fd);
    if (i >= slot_.size()) slot_.resize(std::max(i + 1, slot_.size() * 2), -1);
    const short events = static_cast<short>(((new_what & kPollIn) ? POLLIN : 0) |
                                            ((new_what & kPollOut) ? POLLOUT : 0));
    if (new_what == 0) {
      const int at = slot_[i];
      if (at < 0) return true;
      fds_[at] = fds_.back();
      slot_[static_cast<std::size_t>(fds_[at].fd)] = at;
      fds_.pop_back();
      slot_[i] = -1;
      return true;
    }
    if (old_what == 0 || slot_[i] < 0) {
      slot_[i] = static_cast<int>(fds_.size());
      fds_.push_back(pollfd{fd, events, 0});
    } else {
      fds_[slot_[i]].events = events;
    }
    return true;
  }

  void poll(std::int64_t timeout_ns) override {
    const timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
    const int n = ::ppoll(fds_.data(), fds_.size(), timeout_ns < 0 ? nullptr : &ts, nullptr);
    if (n <= 0) return;
    ready_.clear();
    for (const pollfd& p : fds_) {
      if (!p.revents) continue;
      int ev = 0;
      if (p.revents & POLLIN) ev |= kEventIn;
      if (p.revents & POLLOUT) ev |= kEventOut;
      if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) ev |= kEventErr;
      ready_.push_back({p.fd, ev});
      if (static_cast<int>(ready_.size()) == n) break;
    }
    dispatch_all(ready_);
  }

 private:
  std::vector<pollfd> fds_;
  std::vector<int> slot_;  // by fd: index in fds_, or -1
  std::vector<ReadySocket> ready_;
};

}  // namespace

std::unique_ptr<Backend> make_poll_loop() {
  return std::make_unique<PollLoop>();
}

}  // namespace msb
