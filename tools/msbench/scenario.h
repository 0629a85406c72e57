// Scenario scripts (TOML): what a run opens, against what, driven how, and what to sweep.
//
// Every key has one type and range (see scenario_keys() or `msbench keys`); any key may
// instead be a list, and the runner sweeps the product of all lists, in file order, times
// `repetitions`. `--set key=value` overrides a key (value in TOML syntax, so a list works
// too). Errors name the file, the line and the key.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "expect.h"
#include "run_config.h"

namespace msb::cli {

class ScenarioError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Scenario {
  std::string file;
  std::string name;    // `name`, else the file's stem
  std::string output;  // results file
  int repetitions = 1;
  std::vector<std::string> swept;   // keys given as lists
  std::vector<RunConfig> runs;      // the sweep's product, repetitions innermost
  nlohmann::json resolved;          // every key's value (lists as lists), after --set
  std::vector<Expectation> expect;  // the [expect] table: how every run's transfers must end
};

struct ScenarioKey {
  std::string name;
  std::string type;  // "integer", "number", "string", "boolean"
  std::string help;
  std::vector<std::string> choices;  // a string key's allowed values; empty: any
};
const std::vector<ScenarioKey>& scenario_keys();

// Reads and validates `path`, applies `overrides` ("key=value"). Throws ScenarioError.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides);
// The same from text already read (tests, fuzzing); `name` stands for the file in errors.
Scenario parse_scenario(const std::string& text, const std::string& name,
                        const std::vector<std::string>& overrides);

}  // namespace msb::cli
