#include "drivers.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace msb::test {

void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

LoopDriver::LoopDriver(MultiOptions options, const std::string& backend)
    : loop_(make_loop(backend)) {
  auto observe = std::move(options.socket_fn);
  options.socket_fn = [this, observe](int fd, int what, void* p) {
    if (observe) observe(fd, what, p);
    // Counts sockets being watched: a first non-REMOVE call adds one, REMOVE takes it away.
    if (what == kPollRemove) {
      --watched;
    } else if (seen_.insert(fd).second) {
      max_watched = std::max(max_watched, ++watched);
    }
    if (what == kPollRemove) seen_.erase(fd);
  };
  multi_ = loop_->make_multi(std::move(options));
}

LoopDriver::~LoopDriver() {
  multi_.reset();  // reports REMOVE for what is still open, into the loop
}

bool LoopDriver::run(std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  auto drain = [this] {
    while (auto d = multi_->info_read()) done.push_back(*d);
  };
  drain();
  while (multi_->running() > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return false;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(end - now);
    loop_->run_once(static_cast<int>(left.count()));
    drain();
  }
  drain();
  return true;
}

PerformDriver::PerformDriver(MultiOptions options) {
  multi_ = std::make_unique<Multi>(std::move(options));
}

bool PerformDriver::run(std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  std::vector<pollfd> fds;
  multi_->perform();
  ++perform_calls;
  while (multi_->running() > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return false;
    long wait = std::chrono::duration_cast<std::chrono::milliseconds>(end - now).count();
    const long t = multi_->timeout();
    if (t >= 0 && t < wait) wait = t;
    multi_->pollset(fds);  // past FD_SETSIZE, as curl_multi_wait does
    if (fds.size() > max_watched) max_watched = fds.size();
    ::poll(fds.data(), fds.size(), static_cast<int>(wait));
    multi_->perform();
    ++perform_calls;
    while (auto d = multi_->info_read()) done.push_back(*d);
  }
  while (auto d = multi_->info_read()) done.push_back(*d);
  return true;
}

}  // namespace msb::test
