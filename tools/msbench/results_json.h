// The results document: schema-versioned JSON with its provenance (provenance.h) and each run's
// metrics, written and read through the records' tables (fields_json.h). Histograms are written
// bucket by bucket (lowest value in ns, count), so results from several processes merge
// exactly.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_config.h"

namespace msb::cli {

inline constexpr int kResultsSchemaVersion = 1;

nlohmann::json run_json(const RunResult& r);
nlohmann::json results_document(const nlohmann::json& scenario, const std::vector<RunResult>& runs);

// The inverse, for merging: everything a merge needs is read back exactly. Throws
// std::runtime_error naming the field that is malformed.
RunResult run_from_json(const nlohmann::json& j);

// Reads any JSON file; the error names the file.
nlohmann::json read_json_file(const std::string& path);
// Reads and checks a results file; the error names the file.
nlohmann::json read_results(const std::string& path);

// Writes `doc` to `path`, creating parent folders; throws std::runtime_error on failure.
void write_json(const nlohmann::json& doc, const std::string& path);

}  // namespace msb::cli
