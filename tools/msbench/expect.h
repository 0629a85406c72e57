// What a scenario says its transfers must end as, checked by the runner after every run: the
// `[expect]` table, one line per result code (or `still_running`), each an exact count,
// "all" (every started transfer), "some" (at least one) or "none". A code the table does
// not name must not occur (nor still-running transfers, unless named): the table accounts
// for every transfer. Fault scenarios use it to state their codes; a user can gate a script
// on it (a miss exits 1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "run_config.h"

namespace msb::cli {

struct Expectation {
  std::string what;  // a result name, "still_running", a status ("404") or a class ("5xx")
  enum class Kind { exact, all, some, none } kind = Kind::exact;
  std::uint64_t count = 0;  // for exact
  std::string where;        // "file:line", for messages
};

// Whether an [expect] key names an HTTP status ("404") or class ("5xx") rather than a
// result code: those count completed responses (requests/by_status).
bool is_status_expectation(const std::string& what);
// Whether the table names result codes (then it accounts for every transfer, and a run in
// which nothing succeeded may be the point, as in the fault scenarios).
bool expect_names_codes(const std::vector<Expectation>& expect);
// "run: no transfer succeeded (40 refused)" when not one transfer ended ok, none is still
// running and no request completed; "" otherwise. Exit code 3 unless the table names codes.
std::string nothing_succeeded(const RunResult& r);
// Every expectation `r` misses, as one message each ("" entries never appear).
std::vector<std::string> missed_expectations(const std::vector<Expectation>& expect,
                                             const RunResult& r);

}  // namespace msb::cli
