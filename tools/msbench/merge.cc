#include "merge.h"

#include <fmt/core.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "fields_json.h"
#include "results_json.h"

namespace msb::cli {

namespace {

// A config row that must agree between parts: every label but the runner's bookkeeping.
bool must_agree(const ConfigKey& k) {
  return k.rule == Rule::label;
}

// Second by second within each phase: the k-th sample of a part's phase joins the k-th of
// the others' same phase. (Parts change phase at slightly different times; lining samples
// up by index alone would add one part's ramp-up to another's warm-up.)
void merge_series(std::vector<Sample>& into, const std::vector<Sample>& from) {
  using Groups = std::vector<std::pair<std::string, std::vector<Sample>>>;
  const auto by_phase = [](const std::vector<Sample>& series) {
    Groups g;
    for (const Sample& s : series) {
      if (g.empty() || g.back().first != s.phase) g.emplace_back(s.phase, std::vector<Sample>());
      g.back().second.push_back(s);
    }
    return g;
  };
  Groups merged = by_phase(into);
  for (const auto& [phase, samples] : by_phase(from)) {
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&, &phase = phase](const auto& g) { return g.first == phase; });
    if (it == merged.end()) {
      merged.emplace_back(phase, samples);
      continue;
    }
    auto& dst = it->second;
    if (dst.size() < samples.size()) dst.resize(samples.size());
    for (std::size_t i = 0; i < samples.size(); ++i)
      merge_fields(dst[i], samples[i], sample_fields());
  }
  into.clear();
  for (const auto& g : merged) into.insert(into.end(), g.second.begin(), g.second.end());
}

void merge_into(RunResult& m, const RunResult& p) {
  merge_fields(m.config, p.config, config_keys());
  merge_fields(m, p, run_fields());
  merge_fields(m.engine, p.engine, multi_fields());
  merge_fields(m.engine.sockindex, p.engine.sockindex, sockindex_fields());
  merge_fields(m.engine.timers, p.engine.timers, timer_fields());
  merge_fields(m.loop, p.loop, loop_fields());
  merge_series(m.series, p.series);
}

}  // namespace

RunResult merge_runs(const std::vector<RunResult>& parts, bool keep_parts) {
  if (parts.empty()) throw std::invalid_argument("merge_runs: nothing to merge");
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto differ =
        differing_fields(parts[0].config, parts[i].config, config_keys(), must_agree);
    if (!differ.empty()) {
      std::string what;
      for (const auto& d : differ) what += (what.empty() ? "" : "; ") + d;
      throw std::invalid_argument("merge: parts 1 and " + std::to_string(i + 1) +
                                  " are not of the same run (" + what + ")");
    }
  }
  // Start from an empty result with the first part's labels, then add every part.
  RunResult m;
  m.config = parts[0].config;
  m.config.connections = 0;
  m.workers = 0;
  m.share_of_run = 0;
  m.engine.sockindex.variant = parts[0].engine.sockindex.variant;
  m.engine.timers.variant = parts[0].engine.timers.variant;
  for (const RunResult& p : parts) {
    merge_into(m, p);
    if (!keep_parts) continue;
    if (p.per_worker.empty()) {
      m.per_worker.push_back(p);
    } else {
      for (const RunResult& w : p.per_worker) m.per_worker.push_back(w);
    }
  }
  return m;
}

std::vector<int> check_parts(const std::vector<PartId>& parts, const std::string& kind) {
  if (parts.empty()) throw std::invalid_argument("merge: nothing to merge");
  const PartId& first = parts[0];
  std::vector<const PartId*> seen(static_cast<std::size_t>(std::max(first.count, 1)), nullptr);
  for (const PartId& p : parts) {
    if (p.run_id != first.run_id) {
      throw std::invalid_argument(first.name + " and " + p.name +
                                  " are of different runs (run_id " +
                                  (first.run_id.empty() ? "(none)" : first.run_id) + " vs " +
                                  (p.run_id.empty() ? "(none)" : p.run_id) + ")");
    }
    if (p.count != first.count) {
      throw std::invalid_argument(first.name + " and " + p.name + " split the run differently (" +
                                  kind + " " + std::to_string(first.index) + "/" +
                                  std::to_string(first.count) + " vs " + std::to_string(p.index) +
                                  "/" + std::to_string(p.count) + ")");
    }
    if (p.index < 0 || p.index >= p.count) {
      throw std::invalid_argument(p.name + ": " + kind + " " + std::to_string(p.index) + "/" +
                                  std::to_string(p.count) + " is out of range");
    }
    const PartId*& slot = seen[static_cast<std::size_t>(p.index)];
    if (slot) {
      throw std::invalid_argument(slot->name + " and " + p.name + " are the same " + kind + " (" +
                                  std::to_string(p.index) + "/" + std::to_string(p.count) +
                                  " twice): merged, its counts would double");
    }
    slot = &p;
  }
  std::vector<int> missing;
  for (std::size_t i = 0; i < seen.size(); ++i)
    if (!seen[i]) missing.push_back(static_cast<int>(i));
  return missing;
}

std::string describe_missing(const std::vector<int>& missing, int count, const std::string& kind) {
  std::string list;
  for (std::size_t i = 0; i < missing.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + std::to_string(missing[i]);
  }
  return kind + (missing.size() == 1 ? " " : "s ") + list + " of " + std::to_string(count) +
         (missing.size() == 1 ? " is" : " are") + " missing";
}

namespace {

// What makes two results files the same scenario: its resolved keys, what was swept and how
// often (not where the results were written).
std::vector<std::string> scenario_differences(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<std::string> out;
  const nlohmann::json& ka = a.value("keys", nlohmann::json::object());
  const nlohmann::json& kb = b.value("keys", nlohmann::json::object());
  std::vector<std::string> names;
  for (const auto& [k, v] : ka.items()) names.push_back(k);
  for (const auto& [k, v] : kb.items())
    if (!ka.contains(k)) names.push_back(k);
  for (const std::string& k : names) {
    const std::string va = ka.contains(k) ? ka[k].dump() : "(unset)";
    const std::string vb = kb.contains(k) ? kb[k].dump() : "(unset)";
    if (va != vb) out.push_back(k + ": " + va + " vs " + vb);
  }
  for (const char* k : {"swept", "repetitions"}) {
    if (a.value(k, nlohmann::json()) != b.value(k, nlohmann::json()))
      out.push_back(std::string(k) + ": " + a.value(k, nlohmann::json()).dump() + " vs " +
                    b.value(k, nlohmann::json()).dump());
  }
  return out;
}

}  // namespace

void check_mergeable(const std::vector<std::string>& files,
                     const std::vector<nlohmann::json>& docs) {
  for (std::size_t i = 0; i < docs.size(); ++i) {
    for (std::size_t j = i + 1; j < docs.size(); ++j) {
      if (docs[i].value("runs", nlohmann::json()) == docs[j].value("runs", nlohmann::json())) {
        throw std::invalid_argument(files[i] + " and " + files[j] +
                                    " hold the same results (a file with itself, or a copy): "
                                    "merged, every count would double");
      }
      const auto differ = scenario_differences(docs[i].value("scenario", nlohmann::json::object()),
                                               docs[j].value("scenario", nlohmann::json::object()));
      if (!differ.empty()) {
        std::string what;
        for (const auto& d : differ) what += (what.empty() ? "" : "; ") + d;
        throw std::invalid_argument(files[i] + " and " + files[j] +
                                    " are results of different scenarios (" + what + ")");
      }
    }
  }
}

namespace {

// Lateness below this is the phase change's own cost, not a shard that missed its start: the
// measured phase begins after the engine's statistics are read, which took 18-20 ms with
// 16,667 connections per worker (idle-100k in 3 shards; 2 ms with 100).
constexpr double kLateWorthSayingS = 0.1;

PartId shard_of(const std::string& file, const nlohmann::json& doc) {
  const nlohmann::json run = doc.value("run", nlohmann::json());
  if (!run.is_object() || !run.contains("id") || !run.contains("shard")) {
    throw std::invalid_argument(file +
                                ": has no run id or shard (written by an msbench before shards): "
                                "which run it belongs to cannot be checked");
  }
  try {
    return {file, run.at("id").get<std::string>(), run.at("shard").at("index").get<int>(),
            run.at("shard").at("count").get<int>()};
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file + ": malformed 'run': " + e.what());
  }
}

}  // namespace

MergedFiles merge_files(const std::vector<std::string>& given, std::vector<nlohmann::json> docs,
                        bool allow_partial) {
  check_mergeable(given, docs);
  std::vector<PartId> ids;
  for (std::size_t d = 0; d < docs.size(); ++d) ids.push_back(shard_of(given[d], docs[d]));
  const std::vector<int> missing = check_parts(ids, "shard");
  const std::string run_id = ids[0].run_id;
  const int shard_count = ids[0].count;
  MergedFiles m;
  if (!missing.empty()) {
    const std::string what = describe_missing(missing, shard_count, "shard");
    if (!allow_partial) {
      throw std::invalid_argument("run " + run_id + ": " + what +
                                  ": nothing written (--allow-partial merges what is there)");
    }
    m.warnings.push_back("run " + run_id + ": " + what + ": merging the rest (--allow-partial)");
  }
  // In shard order, so that per_worker lists the shards as 0, 1, 2, ...
  std::vector<std::size_t> order(docs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return ids[a].index < ids[b].index; });
  std::vector<std::string> files;
  std::vector<nlohmann::json> sorted;
  for (std::size_t d : order) {
    files.push_back(given[d]);
    sorted.push_back(std::move(docs[d]));
  }
  docs = std::move(sorted);

  const std::size_t runs = docs[0]["runs"].size();
  for (std::size_t d = 1; d < docs.size(); ++d) {
    if (docs[d]["runs"].size() != runs) {
      throw std::runtime_error(files[d] + ": has " + std::to_string(docs[d]["runs"].size()) +
                               " runs, " + files[0] + " has " + std::to_string(runs));
    }
  }
  double skew = 0;  // how far apart the shards began measuring
  for (std::size_t i = 0; i < runs; ++i) {
    std::vector<RunResult> parts;
    for (std::size_t d = 0; d < docs.size(); ++d) {
      try {
        parts.push_back(run_from_json(docs[d]["runs"][i]));
      } catch (const std::exception& e) {
        throw std::runtime_error(files[d] + ": runs[" + std::to_string(i) + "]: " + e.what());
      }
    }
    RunResult& r = m.runs.emplace_back(merge_runs(parts, true));
    r.part = 0;  // the whole run
    r.parts = 1;
    skew = std::max(skew, r.measure_start_last_s - r.measure_start_first_s);
  }
  nlohmann::json shards = nlohmann::json::array();
  for (std::size_t d = 0; d < docs.size(); ++d) {
    const nlohmann::json& run = docs[d]["run"];
    double late = 0;  // the shard's latest start over its runs
    for (const auto& r : docs[d]["runs"])
      late = std::max(late, r.value("phases", nlohmann::json::object()).value("start_late_s", 0.0));
    shards.push_back({{"file", files[d]},
                      {"index", run["shard"]["index"]},
                      {"host", run.value("host", "")},
                      {"clock", run.value("clock", nlohmann::json())},
                      {"start_late_s", late}});
    if (late > kLateWorthSayingS) {
      m.warnings.push_back(
          fmt::format("shard {} ({}) began measuring {:.3f} s after the planned time",
                      run["shard"]["index"].get<int>(), run.value("host", "?"), late));
    }
  }
  m.doc = results_document(docs[0]["scenario"], m.runs);
  m.doc["merged_from"] = files;
  m.doc["run"] = {{"id", run_id},
                  {"shards", shards},
                  {"shard_count", shard_count},
                  {"missing_shards", missing},
                  {"skew_s", skew},
                  {"scenario_digest", docs[0]["run"].value("scenario_digest", "")}};
  m.doc["partial"] = !missing.empty();
  m.summary =
      fmt::format("run {}: {} of {} shards; measuring began within {:.3f} s of each other (skew)",
                  run_id, files.size(), shard_count, skew);
  return m;
}

}  // namespace msb::cli
