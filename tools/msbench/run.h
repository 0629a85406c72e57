// Runs one RunConfig against the built-in trickle server (in a child process): ramp-up at
// the connect rate, warm-up, the measured steady state, teardown. Only the steady state
// goes into the per-call histograms.
#pragma once

#include <atomic>

#include "run_config.h"

namespace msb::cli {

// `stop` (set by a signal handler) ends the run early; the result is then marked partial.
RunResult run_against_builtin(const RunConfig& config, const std::atomic<bool>& stop,
                              bool progress);

}  // namespace msb::cli
