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
    : backend_(make_backend(backend)) {
  auto observe = std::move(options.socket_fn);
  options.socket_fn = [this, observe](int fd, int what, void* p) {
    const int rc = observe ? observe(fd, what, p) : 0;
    // Counts sockets being watched: a first non-REMOVE call adds one, REMOVE takes it away.
    if (what == kPollRemove) {
      --watched;
    } else if (seen_.insert(fd).second) {
      max_watched = std::max(max_watched, ++watched);
    }
    if (what == kPollRemove) seen_.erase(fd);
    return rc;
  };
  multi_ = backend_->make_multi(std::move(options));
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
    backend_->run_once(static_cast<int>(left.count()));
    drain();
  }
  drain();
  return true;
}

std::vector<std::string> all_backends() {
  // A backend this machine cannot start (io_uring under a seccomp filter) is left out here
  // and reported skipped, with the reason, by Backends/BackendStarts.OrSaysWhyNot.
  std::vector<std::string> out;
  for (const auto& name : backend_names())
    if (backend_unavailable(name).empty()) out.push_back(name);
  return out;
}

int fit_to_backend(const std::string& backend, int transfers) {
  // Client and server share the process, so the server's sockets count against the cap too.
  const BackendInfo* b = find_backend(backend);
  return b && b->fd_cap > 0 ? std::min(transfers, b->fd_cap * 3 / 10) : transfers;
}

std::string backend_test_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace msb::test
