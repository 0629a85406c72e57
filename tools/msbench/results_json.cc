#include "results_json.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "compare.h"

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
      {"sum_ns", h.sum()},
      {"min_ns", h.min()},
      {"max_ns", h.max()},
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
  json series = json::array();
  for (const Sample& s : r.series) {
    series.push_back({{"t_s", s.t_s}, {"open", s.open}, {"calls", s.calls},
                      {"ended_ok", s.ended_ok}, {"ended_failed", s.ended_failed},
                      {"p50_us", s.p50_us}, {"p99_us", s.p99_us}});
  }
  json workers = json::array();
  for (const RunResult& w : r.per_worker) workers.push_back(run_json(w));
  json time_to_end = json::object();
  for (const auto& [code, h] : r.time_to_end_ns) {
    time_to_end[result_name(static_cast<Result>(code))] = histogram_json(h);
  }
  return {
      {"config",
       {{"target", c.target},
        {"addresses", c.addresses},
        {"ports", c.ports},
        {"fault", c.fault},
        {"total_timeout_ms", c.total_timeout_ms},
        {"connect_timeout_ms", c.connect_timeout_ms},
        {"low_speed_limit", c.low_speed_limit},
        {"low_speed_time_ms", c.low_speed_time_ms},
        {"local_ports", c.local_ports},
        {"fd_limit", c.fd_limit},
        {"names", c.names},
        {"dns_timeout_ms", c.dns_timeout_ms},
        {"fault_fraction", c.fault_fraction},
        {"seed", c.seed},
        {"workers", c.workers},
        {"repetition", c.repetition},
        {"connections", c.connections},
        {"active_fraction", c.active_fraction},
        {"trickle_interval_ms", c.trickle_interval_ms},
        {"trickle_bytes", c.trickle_bytes},
        {"connect_rate", c.connect_rate},
        {"warmup_s", c.warmup_s},
        {"duration_s", c.duration_s},
        {"engine", c.engine},
        {"pair", c.pair},
        {"backend", c.backend},
        {"sockindex", c.sockindex},
        {"buckets", c.buckets},
        {"timers", c.timers},
        {"instrument", c.instrument}}},
      {"partial", r.interrupted},
      {"workers", r.workers},
      {"listen_ports", r.listen_ports},
      {"series", series},
      {"per_worker", workers},
      {"accounting",
       {{"started", r.added},
        {"ended", ended},
        {"ended_total", ended_total},
        {"still_running", r.still_running},
        {"holds", r.accounting_holds()}}},
      {"time_to_end_us", time_to_end},  // by result: how long each outcome took to surface
      {"phases", {{"ramp_s", r.ramp_s}, {"measured_s", r.measured_s}}},
      // socket_action/perform calls cover the measured phase; transfers, connections and
      // DNS counts cover the whole run (lookups happen during ramp-up).
      {"counts",
       {{"socket_action_calls", e.socket_action_calls},
        {"perform_calls", e.perform_calls},
        {"transfers_added", e.transfers_added},
        {"transfers_done", e.transfers_done},
        {"connections_opened", e.connections_opened},
        {"dns_lookups", e.dns_lookups},
        {"dns_joined", e.dns_joined},
        {"dns_cache_hits", e.dns_cache_hits},
        {"dns_failures", e.dns_failures},
        {"max_socket_waiters", e.max_socket_waiters},
        {"connections_reused", e.connections_reused}}},
      {"connections_open", r.open_at_measure},
      {"socket_action_us",
       {{"socket", histogram_json(e.socket_action_socket_ns)},
        {"timer", histogram_json(e.socket_action_timer_ns)}}},
      {"perform_us", histogram_json(e.perform_ns)},
      {"resolve_us", histogram_json(e.resolve_ns)},  // whole run: lookups happen at ramp-up
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

json results_document(const json& scenario, const std::vector<RunResult>& runs) {
  json doc = {{"schema", "msbench-results"},
              {"schema_version", kResultsSchemaVersion},
              {"machine", machine_facts()},
              {"scenario", scenario},
              {"runs", json::array()}};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    json run = run_json(runs[i]);
    run.update(ratios_for(runs, i));
    doc["runs"].push_back(run);
  }
  return doc;
}

namespace {

// j.at(key) with the key named in the error.
const json& field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) {
    throw std::runtime_error(std::string("missing field '") + key + "'");
  }
  return j.at(key);
}

template <typename T>
T get(const json& j, const char* key) {
  try {
    return field(j, key).get<T>();
  } catch (const json::exception&) {
    throw std::runtime_error(std::string("field '") + key + "' has the wrong type");
  }
}

}  // namespace

Histogram histogram_from_json(const json& j) {
  Histogram::Buckets buckets;
  for (const auto& b : field(j, "buckets_ns")) {
    buckets.emplace_back(b.at(0).get<std::uint64_t>(), b.at(1).get<std::uint64_t>());
  }
  const auto h = Histogram::restore(buckets, get<std::uint64_t>(j, "sum_ns"),
                                    get<std::uint64_t>(j, "min_ns"), get<std::uint64_t>(j, "max_ns"));
  if (h.count() != get<std::uint64_t>(j, "count")) {
    throw std::runtime_error("histogram buckets do not add up to its count");
  }
  return h;
}

RunResult run_from_json(const json& j) {
  RunResult r;
  const json& c = field(j, "config");
  RunConfig& k = r.config;
  k.target = get<std::string>(c, "target");
  k.addresses = get<int>(c, "addresses");
  k.ports = get<int>(c, "ports");
  k.fault = get<std::string>(c, "fault");
  // Absent from files written before fault scenarios: the defaults.
  k.total_timeout_ms = c.value("total_timeout_ms", 0u);
  k.connect_timeout_ms = c.value("connect_timeout_ms", 0u);
  k.low_speed_limit = c.value("low_speed_limit", 0u);
  k.low_speed_time_ms = c.value("low_speed_time_ms", 0u);
  k.local_ports = c.value("local_ports", 0);
  k.fd_limit = c.value("fd_limit", 0);
  k.names = get<int>(c, "names");
  k.dns_timeout_ms = get<std::uint32_t>(c, "dns_timeout_ms");
  k.fault_fraction = get<double>(c, "fault_fraction");
  k.seed = get<std::uint64_t>(c, "seed");
  k.workers = get<int>(c, "workers");
  k.repetition = get<int>(c, "repetition");
  k.connections = get<int>(c, "connections");
  k.active_fraction = get<double>(c, "active_fraction");
  k.trickle_interval_ms = get<int>(c, "trickle_interval_ms");
  k.trickle_bytes = get<int>(c, "trickle_bytes");
  k.connect_rate = get<double>(c, "connect_rate");
  k.warmup_s = get<double>(c, "warmup_s");
  k.duration_s = get<double>(c, "duration_s");
  k.engine = c.value("engine", std::string("msbench"));  // absent before reference engines
  k.pair = c.value("pair", k.repetition);
  k.backend = get<std::string>(c, "backend");
  k.sockindex = get<std::string>(c, "sockindex");
  k.buckets = get<unsigned>(c, "buckets");
  k.timers = get<std::string>(c, "timers");
  k.instrument = get<bool>(c, "instrument");

  r.interrupted = get<bool>(j, "partial");
  r.workers = get<int>(j, "workers");
  r.listen_ports = j.value("listen_ports", 0);  // absent in older results
  for (const auto& s : field(j, "series")) {
    r.series.push_back({get<double>(s, "t_s"), get<std::uint64_t>(s, "open"),
                        get<std::uint64_t>(s, "calls"), get<std::uint64_t>(s, "ended_ok"),
                        get<std::uint64_t>(s, "ended_failed"), get<double>(s, "p50_us"),
                        get<double>(s, "p99_us")});
  }
  for (const auto& w : field(j, "per_worker")) r.per_worker.push_back(run_from_json(w));

  const json& acc = field(j, "accounting");
  r.added = get<std::uint64_t>(acc, "started");
  r.still_running = get<std::uint64_t>(acc, "still_running");
  r.ended_by_result.assign(kResultCount, 0);
  for (int i = 0; i < kResultCount; ++i) {
    r.ended_by_result[i] = get<std::uint64_t>(field(acc, "ended"), result_name(static_cast<Result>(i)));
  }
  if (j.contains("time_to_end_us")) {  // absent before fault scenarios
    for (int i = 0; i < kResultCount; ++i) {
      const char* name = result_name(static_cast<Result>(i));
      if (j["time_to_end_us"].contains(name)) {
        r.time_to_end_ns[i] = histogram_from_json(j["time_to_end_us"][name]);
      }
    }
  }
  r.ramp_s = get<double>(field(j, "phases"), "ramp_s");
  r.measured_s = get<double>(field(j, "phases"), "measured_s");
  r.open_at_measure = get<std::uint64_t>(j, "connections_open");

  MultiStats& e = r.engine;
  e.socket_action_socket_ns = histogram_from_json(field(field(j, "socket_action_us"), "socket"));
  e.socket_action_timer_ns = histogram_from_json(field(field(j, "socket_action_us"), "timer"));
  e.perform_ns = histogram_from_json(field(j, "perform_us"));
  e.resolve_ns = histogram_from_json(field(j, "resolve_us"));
  const json& n = field(j, "counts");
  e.socket_action_calls = get<std::uint64_t>(n, "socket_action_calls");
  e.perform_calls = get<std::uint64_t>(n, "perform_calls");
  e.transfers_added = get<std::uint64_t>(n, "transfers_added");
  e.transfers_done = get<std::uint64_t>(n, "transfers_done");
  e.connections_opened = get<std::uint64_t>(n, "connections_opened");
  e.dns_lookups = get<std::uint64_t>(n, "dns_lookups");
  e.dns_joined = get<std::uint64_t>(n, "dns_joined");
  e.dns_cache_hits = get<std::uint64_t>(n, "dns_cache_hits");
  e.dns_failures = get<std::uint64_t>(n, "dns_failures");
  e.max_socket_waiters = get<std::uint64_t>(n, "max_socket_waiters");
  e.connections_reused = get<std::uint64_t>(n, "connections_reused");
  e.by_result = r.ended_by_result;
  const json& si = field(j, "sockindex");
  e.sockindex.variant = get<std::string>(si, "variant");
  e.sockindex.size = get<std::uint64_t>(si, "size");
  e.sockindex.buckets = get<std::uint64_t>(si, "buckets");
  e.sockindex.load_factor = get<double>(si, "load_factor");
  e.sockindex.occupancy = get<std::vector<std::uint64_t>>(si, "occupancy");
  e.sockindex.max_chain = get<std::uint64_t>(si, "max_chain");
  e.sockindex.mean_chain = get<double>(si, "mean_chain");
  e.sockindex.lookups = get<std::uint64_t>(si, "lookups");
  e.sockindex.probes = get<std::uint64_t>(si, "probes");
  e.sockindex.resizes = get<std::uint64_t>(si, "resizes");
  const json& t = field(j, "timers");
  e.timers.variant = get<std::string>(t, "variant");
  e.timers.size = get<std::uint64_t>(t, "size");
  e.timers.inserts = get<std::uint64_t>(t, "inserts");
  e.timers.removes = get<std::uint64_t>(t, "removes");
  e.timers.pops = get<std::uint64_t>(t, "pops");
  e.timers.rotations = get<std::uint64_t>(t, "rotations");
  e.timers.steps = get<std::uint64_t>(t, "steps");
  const json& l = field(j, "loop");
  r.loop.waits = get<std::uint64_t>(l, "waits");
  r.loop.events = get<std::uint64_t>(l, "events");
  r.loop.timer_fires = get<std::uint64_t>(l, "timer_fires");
  r.loop.modifies = get<std::uint64_t>(l, "modifies");
  r.loop.redundant = get<std::uint64_t>(l, "redundant");
  e.socket_callbacks = get<std::uint64_t>(field(j, "callbacks"), "socket");
  e.timer_callbacks = get<std::uint64_t>(field(j, "callbacks"), "timer");
  r.cpu_user_s = get<double>(field(j, "cpu"), "user_s");
  r.cpu_sys_s = get<double>(field(j, "cpu"), "sys_s");
  r.rss_before_kb = get<long>(field(j, "rss"), "before_kb");
  r.rss_open_kb = get<long>(field(j, "rss"), "open_kb");
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
    throw std::runtime_error(path + ": schema_version " + doc.value("schema_version", json()).dump() +
                             " is not " + std::to_string(kResultsSchemaVersion));
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
