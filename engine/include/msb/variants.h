// The engine's pluggable internals, chosen at Multi construction: what the benchmarks and
// scenarios compare.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace msb {

enum class SockIndexKind : std::uint8_t {
  chained,    // fixed bucket count, fd % buckets (curl 2006: 7 or 97; curl today: 911)
  resizable,  // power-of-two buckets, doubled to keep load <= 1
  direct,     // array of entries indexed by fd (the default)
};
enum class TimerKind : std::uint8_t {
  splay,  // splay tree (curl's choice): the reference
  heap,   // 4-ary min-heap (libev's choice)
  wheel,  // hierarchical timing wheel, exact (no tick rounding)
};

const char* sockindex_name(SockIndexKind k);
std::optional<SockIndexKind> parse_sockindex(const std::string& name);
std::vector<std::string> sockindex_names();
const char* timer_name(TimerKind k);
std::optional<TimerKind> parse_timer(const std::string& name);
std::vector<std::string> timer_names();

}  // namespace msb
