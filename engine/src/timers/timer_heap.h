// A 4-ary min-heap of deadlines, as libev keeps its timers ("about 5% faster with 50000+
// watchers" than a binary heap: each level is one cache line of four children).
//
// Insert and remove are O(log4 n) moves; the nearest deadline is the root, O(1) without
// touching anything, where the splay tree must splay. Equal keys need no special case.
#pragma once

#include <vector>

#include "timers/timer_queue.h"

namespace msb::detail {

class HeapTimers final : public TimerQueue {
 public:
  static constexpr std::size_t kArity = 4;

  void insert(TimerNode* node, std::int64_t key) override;
  void remove(TimerNode* node) override;
  TimerNode* pop_expired(std::int64_t now) override;
  std::int64_t nearest() override { return heap_.empty() ? INT64_MAX : heap_[0]->key; }
  std::size_t size() const override { return heap_.size(); }
  TimerStats stats() const override;

 private:
  void place(std::size_t i, TimerNode* n) {
    heap_[i] = n;
    n->heap_index = i;
  }
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void remove_at(std::size_t i);

  std::vector<TimerNode*> heap_;
  std::uint64_t inserts_ = 0, removes_ = 0, pops_ = 0, moves_ = 0;
};

}  // namespace msb::detail
