#include "expect.h"

#include <fmt/core.h>

namespace msb::cli {

namespace {

std::uint64_t observed(const std::string& what, const RunResult& r) {
  if (what == "still_running") return r.still_running;
  for (int i = 0; i < kResultCount; ++i) {
    if (what == result_name(static_cast<Result>(i)))
      return r.ended_by_result[static_cast<std::size_t>(i)];
  }
  return 0;
}

// "12 ok, 3 recv_error, 5 still running": what the run did instead.
std::string outcome(const RunResult& r) {
  std::string s;
  for (int i = 0; i < kResultCount; ++i) {
    if (const auto n = r.ended_by_result[static_cast<std::size_t>(i)]) {
      s += fmt::format("{}{} {}", s.empty() ? "" : ", ", n, result_name(static_cast<Result>(i)));
    }
  }
  if (r.still_running)
    s += fmt::format("{}{} still running", s.empty() ? "" : ", ", r.still_running);
  return s.empty() ? "nothing" : s;
}

}  // namespace

std::vector<std::string> missed_expectations(const std::vector<Expectation>& expect,
                                             const RunResult& r) {
  std::vector<std::string> missed;
  if (expect.empty()) return missed;
  // A table that names some codes says the others must not occur: every transfer is
  // accounted for by a line of it.
  for (int i = 0; i < kResultCount; ++i) {
    const std::string name = result_name(static_cast<Result>(i));
    bool listed = false;
    for (const Expectation& e : expect) listed = listed || e.what == name;
    const auto n = r.ended_by_result[static_cast<std::size_t>(i)];
    if (!listed && n > 0) {
      missed.push_back(fmt::format(
          "{}: {} transfers ended {}, which [expect] does not allow (the run: {})",
          expect.front().where.substr(0, expect.front().where.rfind(':')), n, name, outcome(r)));
    }
  }
  bool running_listed = false;
  for (const Expectation& e : expect) running_listed = running_listed || e.what == "still_running";
  if (!running_listed && r.still_running > 0) {
    missed.push_back(fmt::format(
        "{}: {} transfers still running at the end, which [expect] does not allow",
        expect.front().where.substr(0, expect.front().where.rfind(':')), r.still_running));
  }
  for (const Expectation& e : expect) {
    const std::uint64_t n = observed(e.what, r);
    bool ok = false;
    std::string wanted;
    switch (e.kind) {
      case Expectation::Kind::exact:
        ok = n == e.count;
        wanted = std::to_string(e.count);
        break;
      case Expectation::Kind::all:
        ok = n == r.added;
        wanted = fmt::format("all {}", r.added);
        break;
      case Expectation::Kind::some:
        ok = n > 0;
        wanted = "some";
        break;
      case Expectation::Kind::none:
        ok = n == 0;
        wanted = "none";
        break;
    }
    if (!ok) {
      missed.push_back(fmt::format("{}: expected {} = {}, got {} (the run: {})", e.where, e.what,
                                   wanted, n, outcome(r)));
    }
  }
  return missed;
}

}  // namespace msb::cli
