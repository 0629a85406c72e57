// Fuzzes the scenario parser: any text either parses or is refused with a ScenarioError
// (file, line, key); nothing else may escape, and what parses must be a sane run list.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto sc = msb::cli::parse_scenario(text, "fuzz.toml", {});
    if (sc.runs.empty() || sc.output.empty()) std::abort();
    for (const auto& r : sc.runs) {
      if (r.connections < 1 || r.duration_s <= 0) std::abort();
    }
  } catch (const msb::cli::ScenarioError& e) {
    if (std::string(e.what()).rfind("fuzz.toml", 0) != 0) std::abort();  // must name the file
  }
  return 0;
}
