#include "results_json.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "compare.h"
#include "fields_json.h"
#include "provenance.h"

namespace msb::cli {

using nlohmann::json;

json run_json(const RunResult& r) {
  json j = json::object();
  write_fields(j["config"], r.config, config_keys());
  write_fields(j, r, run_fields());
  j["part"] = {{"index", r.part}, {"count", r.parts}};
  write_fields(j, r.engine, multi_fields());
  write_fields(j["sockindex"], r.engine.sockindex, sockindex_fields());
  write_fields(j["timers"], r.engine.timers, timer_fields());
  write_fields(j["loop"], r.loop, loop_fields());
  json series = json::array();
  for (const Sample& s : r.series)
    write_fields(series.emplace_back(json::object()), s, sample_fields());
  j["series"] = series;
  json workers = json::array();
  for (const RunResult& w : r.per_worker) workers.push_back(run_json(w));
  j["per_worker"] = workers;

  // Derived values, for readers; never read back (merge recomputes them from the sums).
  const MultiStats& e = r.engine;
  j["accounting"]["ended_total"] = r.ended_total();
  j["accounting"]["holds"] = r.accounting_holds();
  const std::uint64_t calls = e.socket_action_socket_ns.count() + e.socket_action_timer_ns.count();
  j["calls_per_s"] = r.measured_s > 0 ? double(calls) / r.measured_s : 0;
  j["rss"]["per_connection_bytes"] =
      r.added ? double(r.rss_open_kb - r.rss_before_kb) * 1024.0 / double(r.added) : 0;
  j["sockindex"]["load_factor"] = e.sockindex.load_factor();
  j["sockindex"]["mean_chain"] = e.sockindex.mean_chain();
  j["sockindex"]["probes_per_lookup"] = e.sockindex.probes_per_lookup();
  const TimerStats& ts = e.timers;
  j["timers"]["rotations_per_op"] = ts.ops() ? double(ts.rotations) / double(ts.ops()) : 0;
  j["timers"]["steps_per_op"] = ts.ops() ? double(ts.steps) / double(ts.ops()) : 0;
  j["loop"]["events_per_wait"] = r.loop.events_per_wait();
  j["connect_rate"] = {{"asked", r.connect_rate_asked()}, {"achieved", r.connect_rate_achieved()}};
  if (r.is_load()) {
    j["requests"]["per_s"] = r.requests_per_s();
    j["requests"]["bytes_per_s"] = r.body_bytes_per_s();
    j["requests"]["by_class"] = r.by_class();
    if (r.config.rate > 0) {
      j["rate"]["asked"] = r.rate_asked();
      j["rate"]["achieved"] = r.requests_per_s();
    }
  }
  return j;
}

json results_document(const json& scenario, const std::vector<RunResult>& runs) {
  json doc = {{"schema", "msbench-results"}, {"schema_version", kResultsSchemaVersion},
              {"machine", machine_facts()},  {"invocation", invocation_facts()},
              {"scenario", scenario},        {"runs", json::array()}};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    json run = run_json(runs[i]);
    run.update(ratios_for(runs, i));
    doc["runs"].push_back(run);
  }
  return doc;
}

RunResult run_from_json(const json& j) {
  if (!j.is_object() || !j.contains("config") || !j.contains("accounting")) {
    throw std::runtime_error("not a run: no 'config' or 'accounting'");
  }
  RunResult r;
  read_fields(j.at("config"), r.config, config_keys());
  if (!j.at("config").contains("pair")) r.config.pair = r.config.repetition;  // before pairs
  read_fields(j, r, run_fields());
  if (const auto* p = j.contains("part") ? &j.at("part") : nullptr) {
    r.part = p->value("index", 0);
    r.parts = p->value("count", 1);
  }
  read_fields(j, r.engine, multi_fields());
  if (const auto* si = j.contains("sockindex") ? &j.at("sockindex") : nullptr) {
    read_fields(*si, r.engine.sockindex, sockindex_fields());
  }
  if (const auto* t = j.contains("timers") ? &j.at("timers") : nullptr) {
    read_fields(*t, r.engine.timers, timer_fields());
  }
  if (const auto* l = j.contains("loop") ? &j.at("loop") : nullptr)
    read_fields(*l, r.loop, loop_fields());
  if (j.contains("series")) {
    for (const auto& s : j.at("series")) read_fields(s, r.series.emplace_back(), sample_fields());
  }
  if (j.contains("per_worker")) {
    for (const auto& w : j.at("per_worker")) r.per_worker.push_back(run_from_json(w));
  }
  return r;
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    throw std::runtime_error(path + ": not JSON: " + e.what());
  }
}

json read_results(const std::string& path) {
  const json doc = read_json_file(path);
  if (!doc.is_object() || doc.value("schema", "") != "msbench-results") {
    throw std::runtime_error(path + ": not an msbench results file");
  }
  if (doc.value("schema_version", 0) != kResultsSchemaVersion) {
    throw std::runtime_error(path + ": schema_version " +
                             doc.value("schema_version", json()).dump() + " is not " +
                             std::to_string(kResultsSchemaVersion));
  }
  return doc;
}

void write_json(const json& doc, const std::string& path) {
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream out(path);
  out << doc.dump(1) << "\n";
  if (!out) throw std::runtime_error("cannot write results to '" + path + "'");
}

}  // namespace msb::cli
