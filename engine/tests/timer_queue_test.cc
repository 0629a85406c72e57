// Every timer structure against std::multimap under long random operation sequences:
// inserts, removes of arbitrary queued nodes, and pops of expired ones, checked after every
// step (size, nearest key, which node pops).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "timers/timer_queue.h"

namespace msb::detail {
namespace {

class TimerQueueModel : public ::testing::TestWithParam<TimerKind> {};

// Removes exactly `n` (not just any node with its key) from the model; false if absent.
bool erase_from_model(std::multimap<std::int64_t, TimerNode*>& model, TimerNode* n) {
  auto range = model.equal_range(n->key);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == n) {
      model.erase(it);
      return true;
    }
  }
  return false;
}

// Random inserts, removes of arbitrary queued nodes, and pops at a random `now`, checked
// after every step against a multimap of (key -> node). Keys are drawn from [lo, hi].
void check_against_model(TimerKind kind, std::uint32_t seed, std::int64_t lo, std::int64_t hi) {
  SCOPED_TRACE(testing::Message() << timer_name(kind) << " seed " << seed);
  {
    std::mt19937 rng(seed);
    auto queue = make_timer_queue(kind);
    TimerQueue& t = *queue;
    std::vector<TimerNode> nodes(2000);
    std::multimap<std::int64_t, TimerNode*> model;
    std::vector<TimerNode*> queued;
    std::vector<TimerNode*> idle;
    for (auto& n : nodes) idle.push_back(&n);
    std::uniform_int_distribution<std::int64_t> key(lo, hi);
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
        ASSERT_TRUE(erase_from_model(model, n));
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
          ASSERT_TRUE(erase_from_model(model, n));
          queued.erase(std::find(queued.begin(), queued.end(), n));
          idle.push_back(n);
        }
      }
      ASSERT_EQ(t.size(), model.size());
      ASSERT_EQ(t.nearest(), model.empty() ? INT64_MAX : model.begin()->first);
    }
    const TimerStats s = t.stats();
    EXPECT_EQ(s.size, model.size());
    EXPECT_GT(s.steps, 0u);
    EXPECT_GE(s.steps, s.rotations);
    EXPECT_EQ(s.variant, timer_name(kind));
  }
}

// Few distinct keys, so equal-key chains are exercised heavily.
TEST_P(TimerQueueModel, MatchesMultimapWithFewDistinctKeys) {
  for (std::uint32_t seed : {1u, 2u, 3u}) check_against_model(GetParam(), seed, 0, 300);
}

// Keys spread over nanoseconds to days, as deadlines are: the wheel's every level, its
// cascades and its base moving down are all used.
TEST_P(TimerQueueModel, MatchesMultimapWithWideKeys) {
  for (std::uint32_t seed : {4u, 5u}) {
    check_against_model(GetParam(), seed, 0, std::int64_t{1} << 47);
  }
}

// Negative and extreme keys: order must hold across zero and up to INT64_MAX - 1.
TEST_P(TimerQueueModel, MatchesMultimapAcrossTheWholeRange) {
  check_against_model(GetParam(), 6, INT64_MIN, INT64_MAX - 1);
}

TEST_P(TimerQueueModel, EqualKeysAllPop) {
  auto q = make_timer_queue(GetParam());
  std::vector<TimerNode> n(100);
  for (auto& x : n) q->insert(&x, 42);
  EXPECT_EQ(q->nearest(), 42);
  int popped = 0;
  while (q->pop_expired(42)) ++popped;
  EXPECT_EQ(popped, 100);
  EXPECT_EQ(q->size(), 0u);
  EXPECT_EQ(q->nearest(), INT64_MAX);
}

INSTANTIATE_TEST_SUITE_P(Variants, TimerQueueModel,
                         ::testing::Values(TimerKind::splay, TimerKind::heap, TimerKind::wheel),
                         [](const ::testing::TestParamInfo<TimerKind>& info) {
                           return std::string(timer_name(info.param));
                         });

}  // namespace
}  // namespace msb::detail
