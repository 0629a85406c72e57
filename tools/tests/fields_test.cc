// Every row of every results table survives a worker's JSON round trip and a merge by its
// rule. The tables generate writing, reading and merging alike, so what this guards is the
// tables themselves: a row that is written but not read (or the reverse) fails here, and a
// member added to a record without a row trips the size checks below.
#include <gtest/gtest.h>

#include <type_traits>

#include "fields_json.h"
#include "merge.h"
#include "results_json.h"
#include "run_config.h"

namespace msb::cli {
namespace {

// A record's size changes when a member is added: give the new member its row in the
// record's table (see msb/fields.h), then update the size here.
// (Less the arrays by result code, which grow with each new code and need no new row.)
static_assert(sizeof(MultiStats) - sizeof(ResultCounts) == 195056,
              "MultiStats changed: give the new field a row in multi_fields()");
static_assert(sizeof(SockIndexStats) == 104,
              "SockIndexStats changed: give the new field a row in sockindex_fields()");
static_assert(sizeof(TimerStats) == 80,
              "TimerStats changed: give the new field a row in timer_fields()");
static_assert(sizeof(LoopStats) == 40,
              "LoopStats changed: give the new field a row in loop_fields()");
static_assert(sizeof(RunConfig) == 648,
              "RunConfig changed: give the new key a row in config_keys()");
static_assert(sizeof(RunResult) - sizeof(MultiStats) - sizeof(ResultCounts) == 156896,
              "RunResult changed: give the new field a row in run_fields() (part and parts, "
              "not merged, are written beside the table)");
static_assert(sizeof(Sample) == 120, "Sample changed: give the new field a row in sample_fields()");

// And every member has its row: a row dropped from a table fails here (the counts are the
// records' members, less MultiStats' two nested records, which have tables of their own).
TEST(Fields, EveryMemberHasARow) {
  EXPECT_EQ(multi_fields().size(), 25u);
  EXPECT_EQ(sockindex_fields().size(), 8u);
  EXPECT_EQ(timer_fields().size(), 7u);
  EXPECT_EQ(loop_fields().size(), 5u);
  EXPECT_EQ(config_keys().size(), 47u);
  EXPECT_EQ(run_fields().size(), 32u);  // less config, engine, loop, series, per_worker
  EXPECT_EQ(sample_fields().size(), 12u);
}

// Gives every field of `r` a value of its own, different from its default and from the
// other fields' (`base` shifts them all, for a second record).
template <class R, class Table>
void fill(R& r, const Table& table, int base) {
  int i = base;
  for (const auto& f : table) {
    ++i;
    std::visit(
        [&](auto m) {
          using T = std::remove_cvref_t<decltype(r.*m)>;
          T& v = r.*m;
          if constexpr (std::is_same_v<T, bool>)
            v = true;
          else if constexpr (std::is_integral_v<T>)
            v = static_cast<T>(i * 7 + 3);
          else if constexpr (std::is_floating_point_v<T>)
            v = i * 1.25 + 0.5;
          else if constexpr (std::is_same_v<T, std::string>)
            v = "label" + std::to_string(i);
          else if constexpr (std::is_same_v<T, Histogram>) {
            v.reset();
            for (int k = 1; k <= i; ++k) v.record(static_cast<std::uint64_t>(k * 1000 + i));
          } else if constexpr (std::is_same_v<T, std::vector<std::uint64_t>>) {
            v = {std::uint64_t(i), std::uint64_t(i + 1), std::uint64_t(i + 2)};
          } else if constexpr (std::is_same_v<T, ResultCounts>) {
            for (std::size_t k = 0; k < v.size(); ++k) v[k] = k + static_cast<std::size_t>(i);
          } else if constexpr (std::is_same_v<T, ResultHistograms>) {
            v.clear();
            v[0].record(static_cast<std::uint64_t>(i));
            v[3].record(static_cast<std::uint64_t>(i * 100));
          } else if constexpr (std::is_same_v<T, StatusCounts>) {
            v = {{200, std::uint64_t(i)}, {503, std::uint64_t(i + 1)}};
          } else if constexpr (std::is_same_v<T, ReasonCounts>) {
            v = {{"tls_cert_untrusted: self-signed certificate", std::uint64_t(i)},
                 {"tls_record_error: wrong version number", std::uint64_t(i + 2)}};
          } else if constexpr (std::is_same_v<T, StringList>) {
            v = {"item" + std::to_string(i), "X-Header: " + std::to_string(i)};
          }
        },
        f.member);
  }
}

RunResult filled(int base) {
  RunResult r;
  fill(r.config, config_keys(), base);
  // Settings the runner checks stay valid, and parts of one run share every label.
  r.config.target = "builtin";
  r.config.engine = "msbench";
  r.config.backend = "epoll";
  fill(r, run_fields(), base);
  fill(r.engine, multi_fields(), base);
  fill(r.engine.sockindex, sockindex_fields(), base);
  fill(r.engine.timers, timer_fields(), base);
  fill(r.loop, loop_fields(), base);
  r.series.resize(2);
  fill(r.series[0], sample_fields(), base);
  fill(r.series[1], sample_fields(), base + 50);
  return r;
}

template <class R, class Table>
void expect_same(const R& a, const R& b, const Table& table, const char* what) {
  const auto differ = differing_fields(a, b, table, [](const auto&) { return true; });
  EXPECT_TRUE(differ.empty()) << what << ": " << ::testing::PrintToString(differ);
}

void expect_same_run(const RunResult& a, const RunResult& b) {
  expect_same(a.config, b.config, config_keys(), "config");
  expect_same(a, b, run_fields(), "run");
  expect_same(a.engine, b.engine, multi_fields(), "engine");
  expect_same(a.engine.sockindex, b.engine.sockindex, sockindex_fields(), "sockindex");
  expect_same(a.engine.timers, b.engine.timers, timer_fields(), "timers");
  expect_same(a.loop, b.loop, loop_fields(), "loop");
  ASSERT_EQ(a.series.size(), b.series.size());
  for (std::size_t i = 0; i < a.series.size(); ++i)
    expect_same(a.series[i], b.series[i], sample_fields(), "series");
}

TEST(Fields, EveryFieldSurvivesTheResultsFile) {
  RunResult r = filled(0);
  r.per_worker = {filled(100), filled(200)};
  const RunResult back = run_from_json(nlohmann::json::parse(run_json(r).dump()));
  expect_same_run(r, back);
  ASSERT_EQ(back.per_worker.size(), 2u);
  expect_same_run(r.per_worker[1], back.per_worker[1]);
  // The two counters that were merged but never written before the tables.
  EXPECT_EQ(back.engine.transfers_removed, r.engine.transfers_removed);
  EXPECT_EQ(back.engine.running, r.engine.running);
  EXPECT_NE(back.engine.running, 0u);
}

// Each row combines by its rule; checked value by value against the rule's definition.
template <class R, class Table>
void expect_merged(const R& a, const R& b, const R& m, const Table& table, const char* what) {
  for (const auto& f : table) {
    std::visit(
        [&](auto p) {
          using T = std::remove_cvref_t<decltype(m.*p)>;
          const T &x = a.*p, &y = b.*p, &got = m.*p;
          SCOPED_TRACE(std::string(what) + "." + f.name + " (" + rule_name(f.rule) + ")");
          if constexpr (std::is_same_v<T, Histogram>) {
            EXPECT_EQ(got.count(), x.count() + y.count());
            EXPECT_EQ(got.sum(), x.sum() + y.sum());
          } else if constexpr (std::is_same_v<T, ResultHistograms>) {
            for (const auto& [code, h] : x)
              EXPECT_EQ(got.at(code).count(), h.count() + y.at(code).count());
          } else if constexpr (std::is_same_v<T, ResultCounts> ||
                               std::is_same_v<T, std::vector<std::uint64_t>>) {
            for (std::size_t k = 0; k < x.size(); ++k) EXPECT_EQ(got[k], x[k] + y[k]);
          } else if constexpr (std::is_same_v<T, StatusCounts> || std::is_same_v<T, ReasonCounts>) {
            for (const auto& [key, n] : x) EXPECT_EQ(got.at(key), n + y.at(key));
          } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, StringList>) {
            EXPECT_EQ(got, x);
          } else if constexpr (std::is_same_v<T, bool>) {
            EXPECT_EQ(got, f.rule == Rule::any ? (x || y) : x);
          } else {
            switch (f.rule) {
              case Rule::measured:
              case Rule::total:
                EXPECT_EQ(got, x + y);
                break;
              case Rule::max:
                EXPECT_EQ(got, std::max(x, y));
                break;
              case Rule::min:
                EXPECT_EQ(got, std::min(x, y));  // both non-zero here
                break;
              default:
                EXPECT_EQ(got, x);
                break;
            }
          }
        },
        f.member);
  }
}

TEST(Fields, EveryFieldMergesByItsRuleAfterTheRoundTrip) {
  RunResult a = filled(0), b = filled(0);
  // A second part of the same run: the same settings, other measurements.
  fill(b, run_fields(), 40);
  fill(b.engine, multi_fields(), 40);
  fill(b.engine.sockindex, sockindex_fields(), 40);
  fill(b.engine.timers, timer_fields(), 40);
  fill(b.loop, loop_fields(), 40);
  b.engine.sockindex.variant = a.engine.sockindex.variant;
  b.engine.timers.variant = a.engine.timers.variant;
  b.config.connections = 5;
  // Through the files, as a worker's result reaches the runner.
  a = run_from_json(run_json(a));
  b = run_from_json(run_json(b));
  const RunResult m = merge_runs({a, b}, true);
  expect_merged(a, b, m, run_fields(), "run");
  expect_merged(a.engine, b.engine, m.engine, multi_fields(), "engine");
  expect_merged(a.engine.sockindex, b.engine.sockindex, m.engine.sockindex, sockindex_fields(),
                "sockindex");
  expect_merged(a.engine.timers, b.engine.timers, m.engine.timers, timer_fields(), "timers");
  expect_merged(a.loop, b.loop, m.loop, loop_fields(), "loop");
  expect_merged(a.series[1], b.series[1], m.series[1], sample_fields(), "series");
  EXPECT_EQ(m.config.connections, a.config.connections + 5);
  EXPECT_EQ(m.engine.transfers_removed, a.engine.transfers_removed + b.engine.transfers_removed);
  EXPECT_EQ(m.engine.running, a.engine.running + b.engine.running);
  EXPECT_EQ(m.per_worker.size(), 2u);
}

TEST(Fields, PartsOfDifferentRunsAreRefusedNamingTheSetting) {
  RunResult a = filled(0), b = filled(0);
  b.config.backend = "poll";
  b.config.seed = 99;
  try {
    merge_runs({a, b}, false);
    FAIL() << "merged parts with different settings";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("backend: \"epoll\" vs \"poll\""), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("seed"), std::string::npos) << e.what();
  }
}

// The measured phase: `measured` rows subtract, everything else stays as at the end.
TEST(Fields, MeasuredRowsBecomeThePhasesDifference) {
  RunResult end = filled(50), start = filled(0);
  MultiStats e = end.engine;
  subtract_measured(e, start.engine, multi_fields());
  EXPECT_EQ(e.socket_action_calls,
            end.engine.socket_action_calls - start.engine.socket_action_calls);
  EXPECT_EQ(e.transfers_added, end.engine.transfers_added);  // whole run
  LoopStats l = end.loop;
  subtract_measured(l, start.loop, loop_fields());
  EXPECT_EQ(l.events, end.loop.events - start.loop.events);
}

}  // namespace
}  // namespace msb::cli

namespace msb::cli {
namespace {

// Parts change phase at slightly different times: their samples join phase by phase (the
// k-th of a phase with the k-th), never one part's ramp-up with another's warm-up.
TEST(Fields, SeriesMergePhaseByPhase) {
  auto sample = [](const char* phase, std::uint64_t calls) {
    Sample s;
    s.phase = phase;
    s.calls = calls;
    s.dt_s = 1;
    return s;
  };
  RunResult a, b;
  a.series = {sample("ramp-up", 1), sample("ramp-up", 2), sample("warm-up", 4)};
  b.series = {sample("ramp-up", 10), sample("warm-up", 40), sample("warm-up", 80),
              sample("measuring", 100)};
  const RunResult m = merge_runs({a, b}, false);
  std::vector<std::pair<std::string, std::uint64_t>> got;
  for (const Sample& s : m.series) got.emplace_back(s.phase, s.calls);
  const std::vector<std::pair<std::string, std::uint64_t>> want = {
      {"ramp-up", 11}, {"ramp-up", 2}, {"warm-up", 44}, {"warm-up", 80}, {"measuring", 100}};
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace msb::cli
