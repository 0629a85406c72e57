#include "timers/timer_wheel.h"

#include <bit>
#include <cassert>

namespace msb::detail {
namespace {

// Slot lists: circular through same_next/same_prev, headed by a sentinel node.
void make_empty(TimerNode& head) {
  head.same_next = head.same_prev = &head;
}

bool list_empty(const TimerNode& head) {
  return head.same_next == &head;
}

void link_before(TimerNode& head, TimerNode* node) {  // at the tail
  node->same_prev = head.same_prev;
  node->same_next = &head;
  head.same_prev->same_next = node;
  head.same_prev = node;
}

void unlink(TimerNode* node) {
  node->same_prev->same_next = node->same_next;
  node->same_next->same_prev = node->same_prev;
  node->same_next = node->same_prev = nullptr;
}

// Moves every node of `from` to the tail of `to`; `from` ends empty.
void splice(TimerNode& from, TimerNode& to) {
  if (list_empty(from)) return;
  TimerNode* first = from.same_next;
  TimerNode* last = from.same_prev;
  first->same_prev = to.same_prev;
  to.same_prev->same_next = first;
  last->same_next = &to;
  to.same_prev = last;
  make_empty(from);
}

std::uint64_t digit(std::uint64_t pos, int level) {
  return (pos >> (level * WheelTimers::kBits)) & (WheelTimers::kSlots - 1);
}

}  // namespace

WheelTimers::WheelTimers() {
  for (auto& level : slots_) {
    for (auto& head : level) make_empty(head);
  }
}

int WheelTimers::level_of(std::uint64_t pos) const {
  const std::uint64_t differ = pos ^ base_;
  if (differ == 0) return 0;
  return (63 - std::countl_zero(differ)) / kBits;
}

void WheelTimers::place(TimerNode* node) {
  const std::uint64_t pos = position(node->key);
  assert(pos >= base_);
  const int level = level_of(pos);
  const std::uint64_t slot = digit(pos, level);
  link_before(slots_[level][slot], node);
  occupied_[level] |= std::uint64_t{1} << slot;
}

void WheelTimers::move_base_down(std::uint64_t pos) {
  // Nodes below level G agree with the old base in digit G, which the new base lacks:
  // relative to the new base they all belong in level G, slot (old base's digit G). That
  // slot is empty now, since level-G slots only hold digits above base's own.
  const int top = level_of(pos);
  TimerNode& into = slots_[top][digit(base_, top)];
  for (int level = 0; level < top; ++level) {
    for (std::uint64_t bits = occupied_[level]; bits != 0; bits &= bits - 1) {
      splice(slots_[level][std::countr_zero(bits)], into);
      ++splices_;
    }
    occupied_[level] = 0;
  }
  if (!list_empty(into)) occupied_[top] |= std::uint64_t{1} << digit(base_, top);
  base_ = pos;
}

void WheelTimers::insert(TimerNode* node, std::int64_t key) {
  assert(!node->queued);
  ++inserts_;
  node->key = key;
  node->queued = true;
  const std::uint64_t pos = position(key);
  if (size_ == 0) {
    base_ = pos;  // stale occupied bits are harmless: their slots are empty
  } else if (pos < base_) {
    move_base_down(pos);
  }
  ++size_;
  place(node);
}

void WheelTimers::remove(TimerNode* node) {
  assert(node->queued);
  ++removes_;
  unlink(node);
  node->queued = false;
  --size_;
}

TimerNode* WheelTimers::nearest_slot() {
  if (size_ == 0) return nullptr;
  for (;;) {
    int level = 0;
    std::uint64_t slot = 0;
    bool found = false;
    for (; level < kLevels && !found; ++level) {
      std::uint64_t& bits = occupied_[level];
      while (bits != 0) {
        slot = static_cast<std::uint64_t>(std::countr_zero(bits));
        if (!list_empty(slots_[level][slot])) {
          found = true;
          break;
        }
        bits &= bits - 1;  // emptied by remove(): forget it
      }
    }
    assert(found);
    --level;
    TimerNode& head = slots_[level][slot];
    if (level == 0) return &head;
    // Cascade: base moves up to this slot's start, which is no later than any queued key
    // (the slot holds the nearest ones), and the slot's nodes fall to lower levels. Nodes
    // on higher levels keep their places: base's digits above `level` do not change.
    const int shift = level * kBits;
    const std::uint64_t above =
        shift + kBits >= 64 ? 0 : (base_ >> (shift + kBits)) << (shift + kBits);
    base_ = above | (slot << shift);
    TimerNode pending;
    make_empty(pending);
    splice(head, pending);
    occupied_[level] &= ~(std::uint64_t{1} << slot);
    while (!list_empty(pending)) {
      TimerNode* node = pending.same_next;
      unlink(node);
      place(node);
      ++moves_;
    }
  }
}

std::int64_t WheelTimers::nearest() {
  TimerNode* head = nearest_slot();
  return head ? head->same_next->key : INT64_MAX;
}

TimerNode* WheelTimers::pop_expired(std::int64_t now) {
  TimerNode* head = nearest_slot();
  if (head == nullptr) return nullptr;
  TimerNode* node = head->same_next;
  if (node->key > now) return nullptr;
  ++pops_;
  unlink(node);
  node->queued = false;
  --size_;
  return node;
}

TimerStats WheelTimers::stats() const {
  TimerStats s;
  s.variant = "wheel";
  s.size = size_;
  s.inserts = inserts_;
  s.removes = removes_;
  s.pops = pops_;
  s.steps = moves_ + splices_;  // nodes re-placed by cascades, slots spliced by base moves
  return s;
}

}  // namespace msb::detail
