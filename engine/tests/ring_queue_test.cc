// RingQueue against std::deque under random pushes and pops: the same order through
// growth and wrap-around, and what it holds survives each growth.
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <random>

#include "core/ring_queue.h"

namespace msb::detail {
namespace {

TEST(RingQueue, MatchesADequeThroughGrowthAndWrapAround) {
  std::mt19937 rng(7);
  RingQueue<std::unique_ptr<int>> q;  // move-only, as a record with owned parts would be
  std::deque<int> model;
  int next = 0;
  for (int step = 0; step < 200000; ++step) {
    // Phases that mostly push and mostly pop, so the queue grows, drains and wraps.
    const bool push_phase = (step / 5000) % 2 == 0;
    const bool push = model.empty() || rng() % 10 < (push_phase ? 7u : 3u);
    if (push) {
      q.push_back(std::make_unique<int>(next));
      model.push_back(next++);
    } else {
      ASSERT_FALSE(q.empty());
      ASSERT_EQ(*q.front(), model.front());
      q.pop_front();
      model.pop_front();
    }
    ASSERT_EQ(q.size(), model.size());
    ASSERT_EQ(q.empty(), model.empty());
  }
  while (!model.empty()) {
    ASSERT_EQ(*q.front(), model.front());
    q.pop_front();
    model.pop_front();
  }
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace msb::detail
