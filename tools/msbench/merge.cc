#include "merge.h"

#include <algorithm>
#include <stdexcept>

#include "fields_json.h"

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

}  // namespace msb::cli
