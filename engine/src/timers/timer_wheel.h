// A hierarchical timing wheel with exact deadlines: 11 levels of 64 slots, each level's
// slot 64 times as wide as the one below, positioned like the Linux kernel's timer wheel on
// absolute time rather than on a ticking cursor.
//
// A node's level is the highest 6-bit digit in which its key differs from the wheel's
// `base` (a time no later than any queued key), its slot that digit of its key. So every
// level-0 slot holds one exact key, and the lowest non-empty slot of the lowest non-empty
// level holds the nearest deadline. When that slot is above level 0 it is *cascaded*: base
// moves up to the slot's start and its nodes are placed again, each landing lower. A node
// thus moves at most once per level over its life (amortised O(1) per op, no comparisons
// between nodes at all), where the heap pays O(log n) moves per insert and remove.
//
// Unlike a classic wheel this one never rounds a deadline to a tick, so it pops in exactly
// the order of the splay tree and the heap (the model test checks that). A key earlier than
// base (a deadline sooner than anything queued, once base has moved up to the nearest one)
// moves base down: the lower levels then all fall into a single slot of level G, the highest
// digit in which old and new base differ, so that costs at most 64 list splices per level.
//
// Slots are intrusive circular lists through the nodes' same_next/same_prev, each headed by
// a sentinel node (704 of them, 45 KB per wheel, rather than 16 more bytes in every
// transfer), so no allocation ever. remove() unlinks a node without knowing its slot, so a
// slot's "occupied" bit may stay set after it empties: finding the nearest clears such
// stale bits as it meets them.
#pragma once

#include <array>

#include "timers/timer_queue.h"

namespace msb::detail {

class WheelTimers final : public TimerQueue {
 public:
  static constexpr int kBits = 6;
  static constexpr int kSlots = 1 << kBits;                 // 64: one uint64_t bitmap a level
  static constexpr int kLevels = (64 + kBits - 1) / kBits;  // 11 levels cover any int64 gap

  WheelTimers();
  WheelTimers(const WheelTimers&) = delete;
  WheelTimers& operator=(const WheelTimers&) = delete;

  void insert(TimerNode* node, std::int64_t key) override;
  void remove(TimerNode* node) override;
  TimerNode* pop_expired(std::int64_t now) override;
  std::int64_t nearest() override;
  std::size_t size() const override { return size_; }
  TimerStats stats() const override;

 private:
  // Keys as unsigned with the sign bit flipped, so that unsigned order is signed order.
  static std::uint64_t position(std::int64_t key) {
    return static_cast<std::uint64_t>(key) ^ (std::uint64_t{1} << 63);
  }
  int level_of(std::uint64_t pos) const;
  void place(TimerNode* node);
  void move_base_down(std::uint64_t pos);
  // The level-0 slot holding the nearest deadline, cascading down to it; null when empty.
  TimerNode* nearest_slot();

  std::array<std::array<TimerNode, kSlots>, kLevels> slots_;  // sentinels
  std::array<std::uint64_t, kLevels> occupied_{};  // bit s: slots_[level][s] may be non-empty
  std::uint64_t base_ = 0;                         // position no later than any queued key
  std::size_t size_ = 0;
  std::uint64_t inserts_ = 0, removes_ = 0, pops_ = 0;
  std::uint64_t moves_ = 0;    // nodes placed again by a cascade
  std::uint64_t splices_ = 0;  // whole slots moved by move_base_down()
};

}  // namespace msb::detail
