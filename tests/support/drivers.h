// Drivers for the end-to-end tests: LoopDriver runs a Multi on one of engine/backends'
// loops, purely through the socket and timer callbacks and socket_action(); PerformDriver
// is the legacy poll + perform() loop. Both stop at a deadline.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "loop.h"
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
  Loop& loop() { return *loop_; }
  // Loops until no transfer runs or `limit` passes; true if everything finished.
  bool run(std::chrono::milliseconds limit);
  std::vector<Done> done;        // every Done read so far
  std::size_t max_watched = 0;   // most sockets watched at once
  std::size_t watched = 0;

 private:
  std::unique_ptr<Loop> loop_;
  std::unique_ptr<Multi> multi_;
  std::unordered_set<int> seen_;
};

class PerformDriver {
 public:
  explicit PerformDriver(MultiOptions options = {});
  Multi& multi() { return *multi_; }
  bool run(std::chrono::milliseconds limit);
  std::vector<Done> done;
  std::size_t max_watched = 0;
  std::uint64_t perform_calls = 0;

 private:
  std::unique_ptr<Multi> multi_;
};

}  // namespace msb::test
