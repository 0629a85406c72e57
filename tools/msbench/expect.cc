#include "expect.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>

namespace msb::cli {

bool is_status_expectation(const std::string& what) {
  if (what.size() != 3) return false;
  if (what[0] >= '1' && what[0] <= '5' && what[1] == 'x' && what[2] == 'x') return true;
  return what[0] >= '1' && what[0] <= '9' && std::isdigit(static_cast<unsigned char>(what[1])) &&
         std::isdigit(static_cast<unsigned char>(what[2]));
}

namespace {

std::uint64_t observed(const std::string& what, const RunResult& r) {
  if (what == "still_running") return r.still_running;
  if (is_status_expectation(what)) {
    std::uint64_t n = 0;
    if (what[1] == 'x') {
      for (const auto& [status, count] : r.by_status)
        n += status_class(status) == what[0] - '0' ? count : 0;
    } else if (const auto it = r.by_status.find(std::stoi(what)); it != r.by_status.end()) {
      n = it->second;
    }
    return n;
  }
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

bool expect_names_codes(const std::vector<Expectation>& expect) {
  return std::any_of(expect.begin(), expect.end(),
                     [](const Expectation& e) { return !is_status_expectation(e.what); });
}

std::string nothing_succeeded(const RunResult& r) {
  const bool none = r.added > 0 && r.ended_by_result[static_cast<std::size_t>(Result::ok)] == 0 &&
                    r.still_running == 0 && r.requests_completed == 0;
  if (!none) return {};
  std::string why = fmt::format("no transfer succeeded ({})", outcome(r));
  // The reason the library gave most often (an untrusted certificate: which check failed).
  const auto top =
      std::max_element(r.failure_reasons.begin(), r.failure_reasons.end(),
                       [](const auto& a, const auto& b) { return a.second < b.second; });
  if (top != r.failure_reasons.end())
    why += fmt::format("; most often {} ({})", top->first, top->second);
  return why;
}

std::vector<std::string> missed_expectations(const std::vector<Expectation>& expect,
                                             const RunResult& r) {
  std::vector<std::string> missed;
  if (expect.empty()) return missed;
  // A table that names result codes says the others must not occur: every transfer is
  // accounted for by a line of it. (Lines on statuses alone constrain only those.)
  const bool names_codes = expect_names_codes(expect);
  for (int i = 0; i < kResultCount && names_codes; ++i) {
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
  if (names_codes && !running_listed && r.still_running > 0) {
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
      case Expectation::Kind::all: {
        const std::uint64_t all = is_status_expectation(e.what) ? r.requests_completed : r.added;
        ok = n == all;
        wanted = fmt::format("all {}", all);
        break;
      }
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
