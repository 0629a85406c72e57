#include "timer_heap.h"
#include "timer_splay.h"

namespace msb::detail {

std::unique_ptr<TimerQueue> make_timer_queue(TimerKind kind) {
  switch (kind) {
    case TimerKind::splay: return std::make_unique<SplayTimers>();
    case TimerKind::heap: return std::make_unique<HeapTimers>();
  }
  return std::make_unique<SplayTimers>();
}

}  // namespace msb::detail
