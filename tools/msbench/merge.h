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

// One part of a run, as a merge sees it: a worker's result, or a shard's results file.
struct PartId {
  std::string name;  // what to call it in a message: "worker 2", a file name
  std::string run_id;
  int index = 0, count = 1;
};

// The checks every merge makes, of workers and of shards alike: all parts are of one run
// (the same run_id) and agree on how many parts it has, and none comes twice; throws
// std::invalid_argument naming the parts. Returns the indices missing (empty: complete).
std::vector<int> check_parts(const std::vector<PartId>& parts, const std::string& kind);
// "shards 1 and 3 of 4 are missing"
std::string describe_missing(const std::vector<int>& missing, int count, const std::string& kind);

// Before `msbench merge` adds results files: refuses (std::invalid_argument, naming the files)
// the same results twice (a file with itself, or a copy: every count would double) and files
// of different scenarios (naming the keys that differ, "connections: 1000 vs 10000").
void check_mergeable(const std::vector<std::string>& files,
                     const std::vector<nlohmann::json>& docs);

// `msbench merge`: results files of one run's shards, checked (check_mergeable, then
// check_parts over their run ids and shards; missing shards refused unless `allow_partial`)
// and added run by run, in shard order. Throws std::invalid_argument for what does not
// belong together and std::runtime_error for a malformed file, both naming the file; nothing
// is returned to write then.
struct MergedFiles {
  nlohmann::json doc;                 // the merged results document ("run": shards, skew)
  std::vector<RunResult> runs;        // its runs
  std::vector<std::string> warnings;  // late shards, missing ones (with allow_partial)
  std::string summary;                // "run X: 3 of 3 shards; measuring began within ..."
};
MergedFiles merge_files(const std::vector<std::string>& files, std::vector<nlohmann::json> docs,
                        bool allow_partial);

}  // namespace msb::cli
