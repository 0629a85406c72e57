// Exact merging of results: worker processes of one run, or the same run from several
// hosts. Histograms add bucket by bucket, counters add, gauges (sockets open, buckets) add,
// ratios are recomputed from the sums, durations take the longest.
#pragma once

#include <vector>

#include "run_config.h"

namespace msb::cli {

// Merges `parts` (at least one) into one result; `keep_parts` stores them in per_worker.
RunResult merge_runs(const std::vector<RunResult>& parts, bool keep_parts);

}  // namespace msb::cli
