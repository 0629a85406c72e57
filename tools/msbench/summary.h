// The terminal summary of a run: one screen that answers "what did socket_action cost?".
#pragma once

#include <cstdio>
#include <vector>

#include "run_config.h"

namespace msb::cli {

void print_summary(const RunResult& r, std::FILE* out);

}  // namespace msb::cli

namespace msb::cli {

// One row per run: what a sweep compares.
void print_table(const std::vector<RunResult>& runs, std::FILE* out);

}  // namespace msb::cli
