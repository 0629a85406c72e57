#include "timers/timer_heap.h"

#include <cassert>

namespace msb::detail {

void HeapTimers::sift_up(std::size_t i) {
  TimerNode* n = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / kArity;
    if (heap_[parent]->key <= n->key) break;
    place(i, heap_[parent]);
    i = parent;
    ++moves_;
  }
  place(i, n);
}

void HeapTimers::sift_down(std::size_t i) {
  TimerNode* n = heap_[i];
  const std::size_t size = heap_.size();
  for (;;) {
    const std::size_t first = i * kArity + 1;
    if (first >= size) break;
    std::size_t best = first;
    const std::size_t end = std::min(first + kArity, size);
    for (std::size_t c = first + 1; c < end; ++c) {
      if (heap_[c]->key < heap_[best]->key) best = c;
    }
    if (heap_[best]->key >= n->key) break;
    place(i, heap_[best]);
    i = best;
    ++moves_;
  }
  place(i, n);
}

void HeapTimers::insert(TimerNode* node, std::int64_t key) {
  assert(!node->queued);
  heap_.push_back(node);  // first: if the heap cannot grow, nothing has changed
  ++inserts_;
  node->key = key;
  node->queued = true;
  node->heap_index = heap_.size() - 1;
  sift_up(heap_.size() - 1);
}

void HeapTimers::remove_at(std::size_t i) {
  TimerNode* gone = heap_[i];
  TimerNode* last = heap_.back();
  heap_.pop_back();
  gone->queued = false;
  if (gone == last) return;
  place(i, last);
  // The moved node may belong above or below its new place.
  if (i > 0 && heap_[(i - 1) / kArity]->key > last->key) {
    sift_up(i);
  } else {
    sift_down(i);
  }
}

void HeapTimers::remove(TimerNode* node) {
  assert(node->queued && heap_[node->heap_index] == node);
  ++removes_;
  remove_at(node->heap_index);
}

TimerNode* HeapTimers::pop_expired(std::int64_t now) {
  if (heap_.empty() || heap_[0]->key > now) return nullptr;
  ++pops_;
  TimerNode* n = heap_[0];
  remove_at(0);
  return n;
}

TimerStats HeapTimers::stats() const {
  TimerStats s;
  s.variant = "heap";
  s.size = heap_.size();
  s.inserts = inserts_;
  s.removes = removes_;
  s.pops = pops_;
  s.steps = moves_;  // nodes moved while sifting: the heap's cost per op
  return s;
}

}  // namespace msb::detail
