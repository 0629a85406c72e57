// The io_uring backend (liburing). Quirks, and how they are handled:
//  a) Multishot poll (IORING_POLL_ADD_MULTI) is edge-triggered, and level triggering with it
//     is refused (IORING_POLL_ADD_LEVEL | MULTI: -EINVAL, tried on Linux 6.18). The engine
//     reads once per event and counts on a socket with more to read being reported again, as
//     epoll's level triggering does. So each watched fd has one one-shot poll request (level:
//     it completes at once if the socket is ready when armed), re-armed after it fires, and
//     every re-arm and change of an iteration goes in the same io_uring_enter that waits.
//  b) A poll request holds the file, not the fd number: a socket closed with its poll armed
//     keeps it armed while the kernel reuses the number at once. Each request's user_data
//     carries the fd and a generation; a completion whose generation is not the fd's current
//     one is dropped. REMOVE (applied at once, before the engine's close) submits the cancel
//     at once.
//  c) A cancelled request completes with -ECANCELED, and the cancel itself with 0, -ENOENT
//     or -EALREADY when the request had fired meanwhile: the cancel carries kCancelTag and is
//     ignored; the request's completion has an old generation and is dropped by (b).
//  d) The submission queue can be full (io_uring_get_sqe returns null): what is queued is
//     submitted and the entry taken again. Completions beyond the completion queue wait in
//     the kernel's overflow list (IORING_FEAT_NODROP, required) until they are reaped.
//  e) POLLERR and POLLHUP are reported whether asked for or not: they become kEventErr. A
//     poll that fails (-EBADF: closed behind our back) is reported as kEventErr too, so the
//     engine's next syscall on the socket says what happened.
//  f) The wait's timeout is in nanoseconds, passed with the wait itself
//     (io_uring_submit_and_wait_timeout over IORING_FEAT_EXT_ARG, Linux 5.11): no timeout
//     request to cancel and re-arm.
//  g) Where io_uring cannot start (a kernel before 5.11, a seccomp filter, the
//     kernel.io_uring_disabled sysctl) the constructor throws with the reason: asking for
//     the backend is a clear error, and the tests skip it saying why.
#include <liburing.h>
#include <poll.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "msb/loop.h"

namespace msb {

namespace {

// Room for one iteration's re-arms and changes before a submission is forced (d); the
// completion queue is larger so that a busy iteration rarely overflows.
constexpr unsigned kSubmissionEntries = 4096;
constexpr unsigned kCompletionEntries = 32768;
constexpr std::uint64_t kCancelTag = ~std::uint64_t{0};

std::uint64_t tag(int fd, std::uint32_t generation) {
  return (std::uint64_t{generation} << 32) | static_cast<std::uint32_t>(fd);
}

class IoUringLoop final : public Loop {
 public:
  IoUringLoop() {
    io_uring_params p{};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = kCompletionEntries;
    const int rc = io_uring_queue_init_params(kSubmissionEntries, &ring_, &p);
    if (rc < 0) {
      throw std::runtime_error(std::string("io_uring unavailable: io_uring_setup: ") +
                               std::strerror(-rc) +
                               " (kernel before 5.1, a seccomp filter, or "
                               "kernel.io_uring_disabled)");
    }
    const unsigned needed = IORING_FEAT_EXT_ARG | IORING_FEAT_NODROP;
    if ((p.features & needed) != needed) {
      io_uring_queue_exit(&ring_);
      throw std::runtime_error(
          "io_uring unavailable: the kernel lacks IORING_FEAT_EXT_ARG or IORING_FEAT_NODROP "
          "(Linux 5.11 or later is needed)");
    }
  }
  ~IoUringLoop() override { io_uring_queue_exit(&ring_); }
  const char* name() const override { return "io_uring"; }

 protected:
  bool modify(int fd, int /*old_what*/, int new_what) override {
    if (fd < 0) return false;
    if (static_cast<std::size_t>(fd) >= slots_.size()) {
      try {
        slots_.resize(static_cast<std::size_t>(fd) + 1);
      } catch (const std::bad_alloc&) {
        return false;  // nothing changed: the fd is not watched
      }
    }
    Slot& s = slots_[static_cast<std::size_t>(fd)];
    if (s.armed) {
      io_uring_sqe* sqe = take_sqe();
      io_uring_prep_poll_remove(sqe, tag(fd, s.generation));
      io_uring_sqe_set_data64(sqe, kCancelTag);
      s.armed = false;
    }
    ++s.generation;  // whatever the old request still reports is stale now (b)
    s.what = static_cast<std::uint8_t>(new_what);
    if (new_what == 0) {
      io_uring_submit(&ring_);  // before the engine closes the socket (b)
      return true;
    }
    arm(fd, s);
    return true;
  }

  void poll(std::int64_t timeout_ns) override {
    // Re-arm what fired last time and is still wanted as it was (a).
    for (int fd : fired_) {
      Slot& s = slots_[static_cast<std::size_t>(fd)];
      if (s.what != 0 && !s.armed) arm(fd, s);
    }
    fired_.clear();
    io_uring_cqe* cqe = nullptr;
    if (timeout_ns < 0) {
      io_uring_submit_and_wait(&ring_, 1);
    } else {
      __kernel_timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);  // -ETIME: timed out
    }
    // Read every completion first, then dispatch: the engine's reactions queue new entries.
    unsigned head = 0, seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      const std::uint64_t data = io_uring_cqe_get_data64(cqe);
      if (data == kCancelTag) continue;
      const int fd = static_cast<int>(static_cast<std::uint32_t>(data));
      if (fd < 0 || static_cast<std::size_t>(fd) >= slots_.size()) continue;
      Slot& s = slots_[static_cast<std::size_t>(fd)];
      if (!s.armed || tag(fd, s.generation) != data) continue;  // stale (b, c)
      s.armed = false;
      int events = 0;
      if (cqe->res < 0) {
        events = kEventErr;  // (e)
      } else {
        if (cqe->res & POLLIN) events |= kEventIn;
        if (cqe->res & POLLOUT) events |= kEventOut;
        if (cqe->res & (POLLERR | POLLHUP)) events |= kEventErr;
      }
      ready_.push_back({fd, events});
    }
    io_uring_cq_advance(&ring_, seen);
    for (const ReadySocket& r : ready_) fired_.push_back(r.fd);
    dispatch_all(ready_);
    ready_.clear();
  }

 private:
  struct Slot {
    std::uint32_t generation = 0;
    std::uint8_t what = 0;  // kPoll mask now wanted
    bool armed = false;     // a poll request of this generation is in the ring
  };
  io_uring_sqe* take_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (!sqe) {  // (d)
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void arm(int fd, Slot& s) {
    io_uring_sqe* sqe = take_sqe();
    const unsigned mask = ((s.what & kPollIn) ? POLLIN : 0u) | ((s.what & kPollOut) ? POLLOUT : 0u);
    io_uring_prep_poll_add(sqe, fd, mask);
    io_uring_sqe_set_data64(sqe, tag(fd, s.generation));
    s.armed = true;
  }

  io_uring ring_{};
  std::vector<Slot> slots_;  // by fd
  std::vector<int> fired_;   // fds whose request completed last iteration: re-armed next
  std::vector<ReadySocket> ready_;
};

}  // namespace

std::unique_ptr<Backend> make_io_uring_loop() {
  return std::make_unique<IoUringLoop>();
}

}  // namespace msb
