// One table per record: each field's name in results files, the member it is, how parts of
// a run combine it, its unit and what it means. Results files (both ways), merging workers
// and hosts, and the measured phase's deltas are all generated from the tables, so a field
// is added by adding its member and its row, and cannot be written by one and dropped by
// another.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "msb/histogram.h"
#include "msb/result.h"

namespace msb {

// Counts by result code, indexed by Result (results files name each code).
using ResultCounts = std::array<std::uint64_t, kResultCount>;
// Histograms by result code (only the codes that occurred).
using ResultHistograms = std::map<int, Histogram>;
// Counts by HTTP status (only the statuses that occurred); results files say {"200": n}.
using StatusCounts = std::map<int, std::uint64_t>;
using StringList = std::vector<std::string>;
// Counts by a reason in words (a failed transfer's code and what the library said).
using ReasonCounts = std::map<std::string, std::uint64_t>;

// How a field combines across the parts of a run (worker processes, hosts) and phases.
enum class Rule : std::uint8_t {
  measured,   // a count over the measured phase: parts add; the phase is end minus start
  total,      // a count over the whole run, or a level now: parts add
  max,        // parts keep the largest (the longest chain, the slowest part's duration)
  min,        // parts keep the smallest non-zero value (the earliest start; 0 is "none")
  any,        // true if true in any part
  label,      // the same in every part (a variant's name); the first part's is kept
  histogram,  // parts add bucket by bucket (exact)
};
const char* rule_name(Rule r);

template <class R>
using FieldMember =
    std::variant<std::uint64_t R::*, std::int64_t R::*, std::uint32_t R::*, int R::*, double R::*,
                 bool R::*, std::string R::*, Histogram R::*, std::vector<std::uint64_t> R::*,
                 ResultCounts R::*, ResultHistograms R::*, StatusCounts R::*, StringList R::*,
                 ReasonCounts R::*>;

template <class R>
struct Field {
  const char* name;  // its path in a results file, '/'-separated ("counts/socket_action_calls")
  FieldMember<R> member;
  Rule rule;
  const char* unit;  // "count", "ns", "s", "bytes", "KiB", "" (a name or a flag)
  const char* help;
};

template <class R>
using FieldTable = std::vector<Field<R>>;

}  // namespace msb
