// The engine's one clock: monotonic nanoseconds, for deadlines, timings and the per-call
// instrumentation alike. socket_action() reads it once on entry and every deadline and
// timing inside that call uses the same instant (as libcurl's multi does with one
// Curl_now() per call); the instrumentation reads it once more at the end.
//
// Injectable (MultiOptions::clock), so tests can move time instead of sleeping.
#pragma once

#include <cstdint>

namespace msb {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ns();  // CLOCK_MONOTONIC

  // The process-wide instance that reads the real clock.
  static Clock& real();
};

}  // namespace msb
