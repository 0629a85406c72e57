// Where a result came from, written into every results file so that a file read months later
// says what produced it: the machine (CPU, cores, memory, kernel, the CPU frequency policy and
// the descriptor and port tunables in force) and the invocation (when it started, on which
// host, which msbench build and whether its tree was dirty, the command line, the libcurl the
// reference engine is linked with).
#pragma once

#include <nlohmann/json.hpp>

namespace msb::cli {

// Called once by main(): the command line and the start time the invocation facts report.
void record_invocation(int argc, const char* const* argv);

nlohmann::json machine_facts();
nlohmann::json invocation_facts();

}  // namespace msb::cli
