#include "timers/timer_heap.h"
#include "timers/timer_splay.h"
#include "timers/timer_wheel.h"

namespace msb::detail {

std::unique_ptr<TimerQueue> make_timer_queue(TimerKind kind) {
  switch (kind) {
    case TimerKind::splay:
      return std::make_unique<SplayTimers>();
    case TimerKind::heap:
      return std::make_unique<HeapTimers>();
    case TimerKind::wheel:
      return std::make_unique<WheelTimers>();
  }
  return std::make_unique<SplayTimers>();
}

}  // namespace msb::detail
