#include "results_json.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace msb::cli {

using nlohmann::json;

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

double us(std::uint64_t ns) { return double(ns) / 1000.0; }

}  // namespace

json machine_facts() {
  utsname u{};
  uname(&u);
  return {
      {"cpu", cpu_model()},
      {"cores", sysconf(_SC_NPROCESSORS_ONLN)},
      {"memory_bytes", static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE)},
      {"kernel", std::string(u.sysname) + " " + u.release},
      {"compiler", std::string("gcc-compatible ") + __VERSION__},
      {"build_type", MSB_BUILD_TYPE},
      {"git_commit", MSB_GIT_COMMIT},
  };
}

json histogram_json(const Histogram& h) {
  json buckets = json::array();
  for (auto [low, n] : h.buckets()) buckets.push_back({low, n});
  return {
      {"count", h.count()},
      {"mean_us", h.mean() / 1000.0},
      {"min_us", us(h.min())},
      {"p50_us", us(h.quantile(0.5))},
      {"p90_us", us(h.quantile(0.9))},
      {"p99_us", us(h.quantile(0.99))},
      {"p999_us", us(h.quantile(0.999))},
      {"max_us", us(h.max())},
      {"buckets_ns", buckets},
  };
}

json run_json(const RunResult& r) {
  const RunConfig& c = r.config;
  const MultiStats& e = r.engine;
  json ended = json::object();
  std::uint64_t ended_total = 0;
  for (int i = 0; i < kResultCount; ++i) {
    ended[result_name(static_cast<Result>(i))] = r.ended_by_result[i];
    ended_total += r.ended_by_result[i];
  }
  const SockIndexStats& si = e.sockindex;
  const TimerStats& ts = e.timers;
  const double per_conn =
      r.added ? double(r.rss_open_kb - r.rss_before_kb) * 1024.0 / double(r.added) : 0;
  const std::uint64_t calls = e.socket_action_socket_ns.count() + e.socket_action_timer_ns.count();
  return {
      {"config",
       {{"connections", c.connections},
        {"active_fraction", c.active_fraction},
        {"trickle_interval_ms", c.trickle_interval_ms},
        {"trickle_bytes", c.trickle_bytes},
        {"connect_rate", c.connect_rate},
        {"warmup_s", c.warmup_s},
        {"duration_s", c.duration_s},
        {"backend", c.backend},
        {"sockindex", c.sockindex},
        {"buckets", c.buckets},
        {"timers", c.timers},
        {"instrument", c.instrument}}},
      {"partial", r.interrupted},
      {"accounting",
       {{"started", r.added},
        {"ended", ended},
        {"ended_total", ended_total},
        {"still_running", r.still_running},
        {"holds", r.accounting_holds()}}},
      {"phases", {{"ramp_s", r.ramp_s}, {"measured_s", r.measured_s}}},
      {"connections_open", r.open_at_measure},
      {"socket_action_us",
       {{"socket", histogram_json(e.socket_action_socket_ns)},
        {"timer", histogram_json(e.socket_action_timer_ns)}}},
      {"perform_us", histogram_json(e.perform_ns)},
      {"calls_per_s", r.measured_s > 0 ? double(calls) / r.measured_s : 0},
      {"sockindex",
       {{"variant", si.variant},
        {"size", si.size},
        {"buckets", si.buckets},
        {"load_factor", si.load_factor},
        {"occupancy", si.occupancy},
        {"max_chain", si.max_chain},
        {"mean_chain", si.mean_chain},
        {"lookups", si.lookups},
        {"probes", si.probes},
        {"probes_per_lookup", si.probes_per_lookup()},
        {"resizes", si.resizes}}},
      {"timers",
       {{"variant", ts.variant},
        {"size", ts.size},
        {"inserts", ts.inserts},
        {"removes", ts.removes},
        {"pops", ts.pops},
        {"rotations", ts.rotations},
        {"steps", ts.steps},
        {"rotations_per_op", ts.ops() ? double(ts.rotations) / double(ts.ops()) : 0},
        {"steps_per_op", ts.ops() ? double(ts.steps) / double(ts.ops()) : 0}}},
      {"loop",
       {{"waits", r.loop.waits},
        {"events", r.loop.events},
        {"events_per_wait", r.loop.events_per_wait()},
        {"timer_fires", r.loop.timer_fires},
        {"modifies", r.loop.modifies},
        {"redundant", r.loop.redundant}}},
      {"callbacks", {{"socket", e.socket_callbacks}, {"timer", e.timer_callbacks}}},
      {"cpu", {{"user_s", r.cpu_user_s}, {"sys_s", r.cpu_sys_s}}},
      {"rss",
       {{"before_kb", r.rss_before_kb},
        {"open_kb", r.rss_open_kb},
        {"per_connection_bytes", per_conn}}},
  };
}

json results_document(const std::vector<RunResult>& runs) {
  json doc = {{"schema", "msbench-results"},
              {"schema_version", kResultsSchemaVersion},
              {"machine", machine_facts()},
              {"runs", json::array()}};
  for (const auto& r : runs) doc["runs"].push_back(run_json(r));
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
