// The engine's pending expiries: one node per transfer, keyed by its nearest deadline.
//
// The node is embedded in the transfer (intrusive), so inserting or removing never
// allocates. Only a transfer's nearest deadline is here; its other deadlines wait in the
// transfer's own short list (see Transfer::deadline) until they become the nearest.
// The splay tree is the reference implementation; a 4-ary heap (libev's choice) and a
// hierarchical timing wheel sit behind the same interface, selected by MultiOptions::timers.
#pragma once

#include <cstdint>
#include <memory>

#include "msb/stats.h"
#include "msb/variants.h"

namespace msb::detail {

struct TimerNode {
  std::int64_t key = 0;
  void* owner = nullptr;  // the transfer this node belongs to
  // Splay links. A node is either in the tree (a key's representative) or chained behind
  // the representative of an equal key (`sub`), so equal deadlines never deepen the tree.
  // The wheel uses same_next/same_prev alone, as its slot lists' links.
  TimerNode* left = nullptr;
  TimerNode* right = nullptr;
  TimerNode* same_next = nullptr;  // circular list of nodes with this key, through the rep
  TimerNode* same_prev = nullptr;
  // Heap position (heap only).
  std::size_t heap_index = 0;
  bool queued = false;
  bool sub = false;
};

class TimerQueue {
 public:
  virtual ~TimerQueue() = default;
  // Queues `node` (not queued) at `key`.
  virtual void insert(TimerNode* node, std::int64_t key) = 0;
  // Dequeues a queued `node`.
  virtual void remove(TimerNode* node) = 0;
  // Dequeues and returns one node with key <= now, or null if none is due.
  virtual TimerNode* pop_expired(std::int64_t now) = 0;
  // The smallest key queued, or INT64_MAX when empty.
  virtual std::int64_t nearest() = 0;
  virtual std::size_t size() const = 0;
  virtual TimerStats stats() const = 0;
};

std::unique_ptr<TimerQueue> make_timer_queue(TimerKind kind);

}  // namespace msb::detail
