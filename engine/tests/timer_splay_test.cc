// The splay tree against std::multimap under long random operation sequences, plus golden
// shapes (as curl's test 1309 prints its tree).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <vector>

#include "timer_splay.h"

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

// Random inserts, removes of arbitrary queued nodes, and pops, checked after every step
// against a multimap of (key -> node).
TEST(SplayTimers, MatchesMultimapUnderRandomOperations) {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    std::mt19937 rng(seed);
    SplayTimers t;
    std::vector<TimerNode> nodes(2000);
    std::multimap<std::int64_t, TimerNode*> model;
    std::vector<TimerNode*> queued;
    std::vector<TimerNode*> idle;
    for (auto& n : nodes) idle.push_back(&n);
    // Few distinct keys, so equal-key chains are exercised heavily.
    std::uniform_int_distribution<std::int64_t> key(0, 300);
    for (int op = 0; op < 100000; ++op) {
      const int what = static_cast<int>(rng() % 10);
      if (what < 5 && !idle.empty()) {
        const std::size_t i = rng() % idle.size();
        TimerNode* n = idle[i];
        idle[i] = idle.back();
        idle.pop_back();
        const std::int64_t k = key(rng);
        t.insert(n, k);
        model.emplace(k, n);
        queued.push_back(n);
      } else if (what < 8 && !queued.empty()) {
        const std::size_t i = rng() % queued.size();
        TimerNode* n = queued[i];
        queued[i] = queued.back();
        queued.pop_back();
        auto range = model.equal_range(n->key);
        bool found = false;
        for (auto it = range.first; it != range.second; ++it) {
          if (it->second == n) {
            model.erase(it);
            found = true;
            break;
          }
        }
        ASSERT_TRUE(found);
        t.remove(n);
        ASSERT_FALSE(n->queued);
        idle.push_back(n);
      } else {
        const std::int64_t now = key(rng);
        TimerNode* n = t.pop_expired(now);
        if (model.empty() || model.begin()->first > now) {
          ASSERT_EQ(n, nullptr) << "op " << op;
        } else {
          ASSERT_NE(n, nullptr) << "op " << op;
          ASSERT_EQ(n->key, model.begin()->first);
          auto range = model.equal_range(n->key);
          bool found = false;
          for (auto it = range.first; it != range.second; ++it) {
            if (it->second == n) {
              model.erase(it);
              found = true;
              break;
            }
          }
          ASSERT_TRUE(found);
          queued.erase(std::find(queued.begin(), queued.end(), n));
          idle.push_back(n);
        }
      }
      ASSERT_EQ(t.size(), model.size());
      ASSERT_EQ(t.nearest(), model.empty() ? INT64_MAX : model.begin()->first);
    }
    const TimerStats s = t.stats();
    EXPECT_EQ(s.size, model.size());
    EXPECT_GT(s.rotations, 0u);
    EXPECT_GE(s.steps, s.rotations);
  }
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
