#include "core/clock.h"

namespace msb {

std::int64_t Clock::now_ns() {
  return detail::monotonic_ns();
}

Clock& Clock::real() {
  static Clock instance;
  return instance;
}

}  // namespace msb
