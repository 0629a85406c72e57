// The driver for the end-to-end tests: runs a Multi on one of engine/backends' loops (the
// callback-driven ones through socket_action(), "perform" through perform()) until every
// transfer ended or a deadline passed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

#include "msb/backend.h"
#include "msb/multi.h"

namespace msb::test {

// Raises the soft open-files limit to the hard one (20,000 here).
void raise_fd_limit();

class LoopDriver {
 public:
  // `options` may carry socket_fn/timer_fn: they are called before the loop's own, so tests
  // can observe the callback sequence.
  explicit LoopDriver(MultiOptions options = {}, const std::string& backend = "epoll");
  ~LoopDriver();
  Multi& multi() { return *multi_; }
  Backend& backend() { return *backend_; }
  // Loops until no transfer runs or `limit` passes; true if everything finished.
  bool run(std::chrono::milliseconds limit);
  std::vector<Done> done;       // every Done read so far
  std::size_t max_watched = 0;  // most sockets watched at once
  std::size_t watched = 0;

 private:
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Multi> multi_;
  std::unordered_set<int> seen_;
};

// Backend names for the conformance suites, and a transfer count that fits the backend:
// select cannot watch fds past FD_SETSIZE, and in these tests client and server share one
// process, so it gets fewer.
std::vector<std::string> all_backends();
int fit_to_backend(const std::string& backend, int transfers);
std::string backend_test_name(const ::testing::TestParamInfo<std::string>& info);

}  // namespace msb::test
