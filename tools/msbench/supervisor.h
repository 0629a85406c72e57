// Worker processes: one fork per plan, each running its share (worker.h) and writing its
// result to a file of its own; the supervisor relays their progress lines to the terminal,
// passes Ctrl-C on, and reads the results back once all have exited.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "progress.h"
#include "run_config.h"
#include "workload.h"

namespace msb::cli {

// Runs every plan in a process of its own. Throws std::runtime_error naming each worker
// that failed (its own message, or how it died) after all have ended.
std::vector<RunResult> supervise(const RunConfig& config, const std::vector<WorkerPlan>& plans,
                                 const std::atomic<bool>& stop, ProgressView& view);

}  // namespace msb::cli
