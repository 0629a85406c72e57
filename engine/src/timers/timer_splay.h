// A top-down splay tree of deadlines (Sleator and Tarjan 1985), as curl's lib/splay.c.
//
// Recently touched keys move to the root, so the near-future deadlines that an event loop
// keeps asking for stay cheap: nearest() after a pop is one step. Equal keys form a ring
// behind one tree node, which is common (many transfers started in the same tick with the
// same timeout) and would otherwise make a long spine.
#pragma once

#include <string>

#include "timers/timer_queue.h"

namespace msb::detail {

class SplayTimers final : public TimerQueue {
 public:
  void insert(TimerNode* node, std::int64_t key) override;
  void remove(TimerNode* node) override;
  TimerNode* pop_expired(std::int64_t now) override;
  std::int64_t nearest() override;
  std::size_t size() const override { return size_; }
  TimerStats stats() const override;

  // The tree's shape as text, e.g. "((1) 2 (3 [x2]))", for golden tests.
  std::string shape() const;

 private:
  TimerNode* splay(std::int64_t key, TimerNode* t);
  // Takes `rep` (the tree node, splayed to the root) out of the tree, promoting an equal-key
  // node in its place when there is one.
  void remove_root(TimerNode* rep);

  TimerNode* root_ = nullptr;
  std::size_t size_ = 0;
  std::uint64_t inserts_ = 0;
  std::uint64_t removes_ = 0;
  std::uint64_t pops_ = 0;
  std::uint64_t rotations_ = 0;
  std::uint64_t steps_ = 0;
};

}  // namespace msb::detail
