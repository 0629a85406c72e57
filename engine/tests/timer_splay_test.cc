// The splay tree against std::multimap under long random operation sequences, plus golden
// shapes (as curl's test 1309 prints its tree).
#include <gtest/gtest.h>

#include <vector>

#include "timers/timer_splay.h"

namespace msb::detail {
namespace {

TEST(SplayTimers, GoldenShapes) {
  SplayTimers t;
  std::vector<TimerNode> n(6);
  t.insert(&n[0], 50);
  t.insert(&n[1], 20);
  t.insert(&n[2], 80);
  // Inserting 80 splays the tree towards it: the zig-zag leaves 50 above 20.
  EXPECT_EQ(t.shape(), "(((20) 50) 80)");
  t.insert(&n[3], 20);  // equal key: chained behind the tree node, no new tree node
  // Splaying 20 up from under 80 is a zig-zig: 20 becomes the root, 50 -> 80 on its right.
  EXPECT_EQ(t.shape(), "(20 [x2] (50 (80)))");
  EXPECT_EQ(t.nearest(), 20);  // already the root: no change
  EXPECT_EQ(t.shape(), "(20 [x2] (50 (80)))");
  t.remove(&n[1]);  // the tree node of a chain: its equal-key heir takes its place
  EXPECT_EQ(t.shape(), "(20 (50 (80)))");
  EXPECT_EQ(t.size(), 3u);
}

TEST(SplayTimers, PopsOnlyExpiredInKeyOrder) {
  SplayTimers t;
  std::vector<TimerNode> n(5);
  const std::int64_t keys[] = {30, 10, 40, 10, 20};
  for (int i = 0; i < 5; ++i) t.insert(&n[i], keys[i]);
  EXPECT_EQ(t.pop_expired(5), nullptr);
  std::vector<std::int64_t> popped;
  while (TimerNode* x = t.pop_expired(30)) popped.push_back(x->key);
  EXPECT_EQ(popped, (std::vector<std::int64_t>{10, 10, 20, 30}));
  EXPECT_EQ(t.nearest(), 40);
  EXPECT_EQ(t.stats().pops, 4u);
}

TEST(SplayTimers, EmptyTree) {
  SplayTimers t;
  EXPECT_EQ(t.nearest(), INT64_MAX);
  EXPECT_EQ(t.pop_expired(INT64_MAX), nullptr);
  EXPECT_EQ(t.shape(), "");
}

// Increasing keys (deadlines set "now + timeout" in time order) keep access cheap: the
// amortised bound is O(log n), and for this pattern the splay does better still.
TEST(SplayTimers, SequentialDeadlinesStayShallow) {
  SplayTimers t;
  std::vector<TimerNode> n(10000);
  for (std::size_t i = 0; i < n.size(); ++i) t.insert(&n[i], static_cast<std::int64_t>(i));
  for (std::size_t i = 0; i < n.size(); ++i) ASSERT_EQ(t.pop_expired(INT64_MAX)->key, (long)i);
  const TimerStats s = t.stats();
  EXPECT_LT(double(s.steps) / double(s.ops()), 20.0);  // log2(10000) ~ 13
}

}  // namespace
}  // namespace msb::detail
