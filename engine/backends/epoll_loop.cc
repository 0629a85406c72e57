// The epoll backend. Quirks, and how they are handled:
//  a) Closing an fd silently drops it from the interest list (once no other descriptor
//     refers to the file). The engine reports REMOVE before it closes, and Loop applies
//     REMOVE at once, so the DEL always precedes the close.
//  b) fd numbers are reused at once by the kernel; because of (a) the table entry is clear
//     by then. Should a MOD still meet ENOENT (a descriptor closed behind our back), it is
//     retried as ADD; an ADD meeting EEXIST is retried as MOD.
//  c) EPOLLERR and EPOLLHUP are reported whether asked for or not: they become kEventErr
//     and the engine's next recv()/SO_ERROR says what happened.
//  d) epoll_wait's timeout is in whole ms: epoll_pwait2 (Linux 5.11) takes nanoseconds, so a
//     load's request goes out when it is due; without it, the wait is rounded up to a ms.
//  e) Level-triggered on purpose: the engine reads once per event, and a socket with more
//     to read is simply reported again.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "msb/loop.h"

namespace msb {

namespace {

class EpollLoop final : public Loop {
 public:
  EpollLoop() : epfd_(epoll_create1(EPOLL_CLOEXEC)), ready_(1024) {
    if (epfd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    batch_.reserve(ready_.size());  // push_back in poll() never allocates
  }
  ~EpollLoop() override { ::close(epfd_); }
  const char* name() const override { return "epoll"; }

 protected:
  bool modify(int fd, int old_what, int new_what) override {
    epoll_event ev{};
    ev.data.fd = fd;
    ev.events = ((new_what & kPollIn) ? EPOLLIN : 0u) | ((new_what & kPollOut) ? EPOLLOUT : 0u);
    if (new_what == 0) return epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &ev) == 0 || errno == ENOENT;
    int op = old_what ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(epfd_, op, fd, &ev) == 0) return true;
    op = (errno == ENOENT) ? EPOLL_CTL_ADD : (errno == EEXIST ? EPOLL_CTL_MOD : -1);
    return op >= 0 && epoll_ctl(epfd_, op, fd, &ev) == 0;
  }

  void poll(std::int64_t timeout_ns) override {
    timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
    int n = -1;
    if (pwait2_) {
      n = epoll_pwait2(epfd_, ready_.data(), static_cast<int>(ready_.size()),
                       timeout_ns < 0 ? nullptr : &ts, nullptr);
      if (n < 0 && errno == ENOSYS) pwait2_ = false;
    }
    if (!pwait2_) {
      // Before Linux 5.11: whole milliseconds, rounded up so the wait never ends early.
      const int ms = timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
      n = epoll_wait(epfd_, ready_.data(), static_cast<int>(ready_.size()), ms);
    }
    batch_.clear();
    for (int i = 0; i < n; ++i) {
      const std::uint32_t e = ready_[i].events;
      int events = 0;
      if (e & EPOLLIN) events |= kEventIn;
      if (e & EPOLLOUT) events |= kEventOut;
      if (e & (EPOLLERR | EPOLLHUP)) events |= kEventErr;
      batch_.push_back({ready_[i].data.fd, events});
    }
    dispatch_all(batch_);
    // A full batch hints at more ready sockets than the array holds: grow it.
    if (n == static_cast<int>(ready_.size()) && ready_.size() < 65536) {
      ready_.resize(ready_.size() * 2);
      batch_.reserve(ready_.size());
    }
  }

 private:
  int epfd_;
  bool pwait2_ = true;  // epoll_pwait2 (nanosecond waits) until the kernel says ENOSYS
  std::vector<epoll_event> ready_;
  std::vector<ReadySocket> batch_;  // ready_ in the engine's terms, for dispatch_all()
};

}  // namespace

std::unique_ptr<Backend> make_epoll_loop() {
  return std::make_unique<EpollLoop>();
}

}  // namespace msb
