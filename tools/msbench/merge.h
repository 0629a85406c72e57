// Exact merging of results: worker processes of one run, or the same run from several
// hosts. Each field combines by its table's rule (histograms add bucket by bucket, counts
// add, the longest chain and the slowest phase are kept); ratios are recomputed from the
// sums when written. Parts whose settings differ (any label of the config) are refused.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_config.h"

namespace msb::cli {

// Merges `parts` (at least one) into one result; `keep_parts` stores them in per_worker.
// Throws std::invalid_argument naming the settings that differ between parts.
RunResult merge_runs(const std::vector<RunResult>& parts, bool keep_parts);

// Before `msbench merge` adds results files: refuses (std::invalid_argument, naming the files)
// the same results twice (a file with itself, or a copy: every count would double) and files
// of different scenarios (naming the keys that differ, "connections: 1000 vs 10000").
void check_mergeable(const std::vector<std::string>& files,
                     const std::vector<nlohmann::json>& docs);

}  // namespace msb::cli
