// Engine comparisons within one scenario run: each msbench (or libcurl) run divided by the
// floor and libcurl runs of the same pair (same sweep point and repetition, neighbours in
// time). Ratios are taken pair by pair, never between averages, so that the machine's drift
// cancels; the summary is the median over a point's repetitions.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "run_config.h"

namespace msb::cli {

// For run `i`: {"ratio_to_floor": {...}, "ratio_to_libcurl": {...}} with p50, p99,
// cpu_per_event, ramp (its length) and rss_per_connection against libcurl, for whichever
// partners exist.
nlohmann::json ratios_for(const std::vector<RunResult>& runs, std::size_t i);

// Prints one line per sweep point that compared engines; nothing when none did.
void print_comparison(const std::vector<RunResult>& runs, std::FILE* out);

}  // namespace msb::cli
