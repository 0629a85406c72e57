// Time units the engine counts in, and the real clock inline for code that has no Multi.
#pragma once

#include <time.h>

#include <cstdint>

#include "msb/clock.h"

namespace msb::detail {

inline std::int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline constexpr std::int64_t kNever = INT64_MAX;
inline constexpr std::int64_t kNsPerMs = 1'000'000;

}  // namespace msb::detail
