#include "run_config.h"

#include <unistd.h>

#include <algorithm>
#include <type_traits>

#include "engines/engine.h"
#include "faults.h"

namespace msb::cli {

namespace {

std::vector<std::string> engines() {
  return engine_names();
}
std::vector<std::string> backends_() {
  return backend_names();
}
std::vector<std::string> sockindexes() {
  return sockindex_names();
}
std::vector<std::string> timers() {
  return timer_names();
}
std::vector<std::string> faults() {
  return server::fault_names();
}

std::string check_target(const std::string& s) {
  return s == "builtin" || is_web_url(s) ? "" : "expected \"builtin\" or an http(s):// URL";
}
std::vector<std::string> schemes() {
  return {"http", "https"};
}
std::string check_ca_file(const std::string& s) {
  if (s.empty()) return "";
  return access(s.c_str(), R_OK) == 0 ? "" : "cannot read '" + s + "': give a PEM file of CAs";
}
std::string check_libcurl(const std::string& s) {
  if (s.empty()) return "";
  return access(s.c_str(), R_OK) == 0 ? ""
                                      : "cannot read '" + s + "': give the path of a libcurl.so";
}
std::string check_engine(const std::string& s) {
  return engine_built(s)
             ? ""
             : "this msbench was built without libcurl (install libcurl4-openssl-dev and rebuild)";
}

constexpr double kMaxInt = 1e15;

}  // namespace

bool is_web_url(const std::string& s) {
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (s.size() > scheme.size() && s.compare(0, scheme.size(), scheme) == 0) return true;
  }
  return false;
}

const std::vector<ConfigKey>& config_keys() {
  using C = RunConfig;
  using R = Rule;
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> k = {
        {"target", &C::target, R::label, "",
         "\"builtin\" (spawn the built-in server) or an http:// or https:// URL (its origin; its "
         "path unless `path` or [[request]] say otherwise)",
         0, 0, nullptr, check_target},
        {"scheme", &C::scheme, R::label, "",
         "builtin: \"https\" serves over TLS (a certificate made for the run, which the clients "
         "trust and verify) instead of \"http\"; a list sweeps. With URL targets it must be "
         "theirs",
         0, 0, schemes},
        {"ca_file", &C::ca_file, R::label, "",
         "https: a PEM file of CA certificates to verify the server against (\"\": the system's "
         "store; builtin: the run's own certificate)",
         0, 0, nullptr, check_ca_file},
        {"insecure", &C::insecure, R::label, "",
         "https: accept any certificate for any name (self-signed test servers); verification "
         "is on by default"},
        {"tls_resumption", &C::tls_resumption, R::label, "",
         "https: a new connection resumes the origin's last TLS session (tickets) instead of a "
         "full handshake; false: every handshake is full (a list sweeps both)"},
        {"targets", &C::targets, R::label, "",
         "http(s):// URLs the shards and their workers spread over, instead of `target` (worker k "
         "of all uses targets[k % n]): e.g. `msbench serve` on several server hosts"},
        {"path", &C::path, R::label, "",
         "load: the path each request asks for (builtin: e.g. /bytes/100; see msbench serve "
         "--help)"},
        {"method", &C::method, R::label, "", "load: the request method (any token)"},
        {"headers", &C::headers, R::label, "",
         "load: extra request headers, a list of \"Name: value\""},
        {"body", &C::body, R::label, "", "load: the request body, or @file to read it from a file"},
        {"requests", &C::requests, R::label, "",
         "load: a weighted mix, as [[request]] tables (url or path, method, headers, body, "
         "weight)"},
        {"requests_per_connection", &C::requests_per_connection, R::label, "count",
         "load: requests a connection carries before it is closed and another opened (0: the whole "
         "run; -1: 0 for load, 1 for the trickle workload)",
         -1, 1e9},
        {"rate", &C::rate, R::label, "1/s",
         "load: requests per second over all workers, at their scheduled times (the open model; "
         "latency counts from when a request was due); 0: the closed model",
         0, 1e8},
        {"think_time_ms", &C::think_time_ms, R::label, "ms",
         "load, closed model: from a response to the connection's next request", 0, 3'600'000},
        {"pipeline", &C::pipeline, R::label, "count",
         "load, closed model: requests written at once on a connection before their responses are "
         "read",
         1, 1024},
        {
            "source_addresses",
            &C::source_addresses,
            R::label,
            "",
            "local addresses to connect from, in turn (a list of IPs, or a count N: 127.0.0.1 .. "
            "127.0.0.N); past ~28k connections to one destination each needs its own",
        },
        {"addresses", &C::addresses, R::label, "count",
         "builtin: loopback addresses per server (127.0.0.1 .. 127.0.0.N)", 1, 254},
        {"ports", &C::ports, R::label, "count",
         "builtin: listening ports per address per server process", 1, 1024},
        {"connections", &C::connections, R::total, "count",
         "connections to open, over all worker processes (the open model: the most at once)", 1,
         10'000'000},
        {"active_fraction", &C::active_fraction, R::label, "",
         "trickle workload: share of connections that receive a trickle; the rest stay idle", 0, 1},
        {"trickle_interval_ms", &C::trickle_interval_ms, R::label, "ms",
         "trickle workload: an active connection receives trickle_bytes this often", 1, 3'600'000},
        {"trickle_bytes", &C::trickle_bytes, R::label, "bytes",
         "trickle workload: bytes per trickle", 1, 65536},
        {"connect_rate", &C::connect_rate, R::label, "1/s",
         "new connections per second during ramp-up (over all workers)", 1, 1e7},
        {"warmup_s", &C::warmup_s, R::label, "s", "seconds after ramp-up that are not measured", 0,
         86400},
        {"duration_s", &C::duration_s, R::label, "s", "measured seconds (the steady state)", 0.001,
         86400 * 7},
        {"engine", &C::engine, R::label, "",
         "what drives the connections: \"msbench\", or a reference measured beside it: \"libcurl\" "
         "(its multi_socket API), \"floor\" (one bare recv per event); swept engines alternate run "
         "by run",
         0, 0, engines, check_engine},
        {"libcurl", &C::libcurl, R::label, "",
         "engine libcurl: the libcurl build to load, a path to its libcurl.so (a list sweeps, each "
         "alternating with msbench and the floor); \"\": the one msbench is linked with",
         0, 0, nullptr, check_libcurl},
        {"backend", &C::backend, R::label, "", "event loop driving the engine", 0, 0, backends_},
        {"sockindex", &C::sockindex, R::label, "", "socket index variant", 0, 0, sockindexes},
        {"buckets", &C::buckets, R::label, "count",
         "buckets of the chained socket index (7, 97: curl 2006; 911: curl today)", 1, 1 << 24},
        {"timers", &C::timers, R::label, "", "timer structure", 0, 0, timers},
        {"instrument", &C::instrument, R::label, "",
         "time every socket_action call (its cost is measured by the benchmarks)"},
        {"names", &C::names, R::label, "count",
         "builtin: connect by this many distinct host names, resolved by c-ares against a dnsmasq "
         "the runner starts (0: by address)",
         0, 1'000'000},
        {"dns_timeout_ms", &C::dns_timeout_ms, R::label, "ms", "per-lookup DNS timeout", 1, 600000},
        {"dns_max_in_flight", &C::dns_max_in_flight, R::label, "count",
         "DNS lookups sent at once; more wait their turn", 1, 1'000'000},
        {"fault", &C::fault, R::label, "",
         "builtin: how the server misbehaves towards fault_fraction of the connections", 0, 0,
         faults},
        {"fault_fraction", &C::fault_fraction, R::label, "",
         "builtin: share of connections that get the fault", 0, 1},
        {"total_timeout_ms", &C::total_timeout_ms, R::label, "ms",
         "per-transfer total timeout (0: just longer than the run, so none ever hangs)", 0,
         4'000'000'000},
        {"connect_timeout_ms", &C::connect_timeout_ms, R::label, "ms",
         "per-transfer connect timeout (0: none)", 0, 4'000'000'000},
        {"low_speed_limit", &C::low_speed_limit, R::label, "bytes/s",
         "bytes/s below which a transfer fails, averaged over low_speed_time_ms (0: off)", 0,
         4'000'000'000},
        {"low_speed_time_ms", &C::low_speed_time_ms, R::label, "ms", "the low-speed window", 0,
         4'000'000'000},
        {"fd_limit", &C::fd_limit, R::label, "count",
         "each worker's open-files limit, to run out of descriptors on purpose (EMFILE); 0: as "
         "high "
         "as allowed",
         0, 1'000'000},
        {"local_ports", &C::local_ports, R::label, "count",
         "connect from only this many local ports per worker (port exhaustion: EADDRNOTAVAIL); 0: "
         "the system's range",
         0, 1000},
        {"seed", &C::seed, R::label, "",
         "seeds which connections are active or faulty, and the mix", 0, kMaxInt},
        {"workers", &C::workers, R::label, "count",
         "client processes (0: as many as the open-files limit requires)", 0, 1024},
        {"repetition", &C::repetition, R::label, "",
         "which repetition of its sweep point this run is", 0, 0, nullptr, nullptr, false},
        {"pair", &C::pair, R::label, "",
         "runs with the same pair differ only in engine: their ratios are taken pair by pair", 0, 0,
         nullptr, nullptr, false},
    };
    for (const char* name : {"addresses", "ports", "active_fraction", "trickle_interval_ms",
                             "trickle_bytes", "names", "fault", "fault_fraction"}) {
      for (auto& key : k) {
        if (std::string_view(key.name) == name) key.builtin_only = true;
      }
    }
    return k;
  }();
  return keys;
}

namespace {
const ConfigKey* find_in(const std::vector<ConfigKey>& keys, const std::string& name) {
  for (const auto& k : keys) {
    if (name == k.name) return &k;
  }
  return nullptr;
}
}  // namespace

const ConfigKey* find_config_key(const std::string& name) {
  return find_in(config_keys(), name);
}

const char* key_type(const ConfigKey& k) {
  return std::visit(
      [](auto m) -> const char* {
        using T = std::remove_cvref_t<decltype(std::declval<RunConfig>().*m)>;
        if constexpr (std::is_same_v<T, bool>)
          return "boolean";
        else if constexpr (std::is_same_v<T, StringList>)
          return "strings";
        else if constexpr (std::is_integral_v<T>)
          return "integer";
        else if constexpr (std::is_floating_point_v<T>)
          return "number";
        else if constexpr (std::is_same_v<T, std::string>)
          return "string";
        else
          return "other";
      },
      k.member);
}

const FieldTable<Sample>& sample_fields() {
  using S = Sample;
  static const FieldTable<S> t = {
      {"phase", &S::phase, Rule::label, "", "ramp-up, warm-up, measuring or teardown"},
      {"t_s", &S::t_s, Rule::max, "s", "its end, in seconds since the run (ramp-up) began"},
      {"dt_s", &S::dt_s, Rule::max, "s", "its length (1 s, shorter where a phase ends)"},
      {"open", &S::open, Rule::total, "count", "sockets watched"},
      {"calls", &S::calls, Rule::total, "count", "socket_action (or perform) calls in it"},
      {"requests", &S::requests, Rule::total, "count", "load: responses complete in it"},
      {"ended_ok", &S::ended_ok, Rule::total, "count", "transfers ended ok in it"},
      {"ended_failed", &S::ended_failed, Rule::total, "count", "transfers ended otherwise in it"},
      // Percentiles cannot be added: a merged sample shows the worst part's.
      {"p50_us", &S::p50_us, Rule::max, "us", "median socket call in it"},
      {"p99_us", &S::p99_us, Rule::max, "us", "99th percentile socket call in it"},
      {"request_p50_us", &S::request_p50_us, Rule::max, "us", "load: median request in it"},
      {"request_p99_us", &S::request_p99_us, Rule::max, "us",
       "load: 99th percentile request in it"},
  };
  return t;
}

const FieldTable<RunResult>& run_fields() {
  using X = RunResult;
  static const FieldTable<X> t = {
      {"partial", &X::interrupted, Rule::any, "",
       "interrupted (Ctrl-C): what was gathered until then"},
      {"requests/completed", &X::requests_completed, Rule::total, "count",
       "load: responses complete over the whole run (ramp-up to the drain: what the server saw)"},
      {"requests/failed", &X::requests_failed, Rule::total, "count",
       "load: requests that ended with an error over the whole run (one per failed transfer)"},
      {"requests/body_bytes", &X::response_body_bytes, Rule::total, "bytes",
       "load: response body bytes of the completed responses"},
      {"requests/by_status", &X::by_status, Rule::total, "count",
       "load: completed responses by HTTP status"},
      {"requests/measured", &X::requests_measured, Rule::total, "count",
       "load: responses complete in the measured phase (requests/s is this over its duration)"},
      {"requests/measured_body_bytes", &X::measured_body_bytes, Rule::total, "bytes",
       "load: their body bytes"},
      {"request_us", &X::request_ns, Rule::histogram, "ns",
       "load: request latency, from when the request was due (open model: coordinated omission "
       "corrected) or sent (closed model), to its last byte"},
      {"request_uncorrected_us", &X::request_uncorrected_ns, Rule::histogram, "ns",
       "load, open model: from when the request was sent, to its last byte"},
      {"connect_us", &X::connect_ns, Rule::histogram, "ns",
       "load: new connections, connect() to established"},
      {"first_byte_us", &X::first_byte_ns, Rule::histogram, "ns",
       "load: from when a request was sent to its first response byte"},
      {"rate/behind", &X::requests_behind, Rule::total, "count",
       "load, open model: requests due but not yet sent when measuring ended (the client could not "
       "keep up, or every connection was busy)"},
      {"workers", &X::workers, Rule::total, "count", "engine processes merged into this result"},
      {"run_id", &X::run_id, Rule::label, "",
       "the run this result is part of: every shard and worker of one run has the same"},
      {"phases/measure_start_first_unix_s", &X::measure_start_first_s, Rule::min, "s",
       "when measuring began (Unix time), in the earliest part"},
      {"phases/measure_start_last_unix_s", &X::measure_start_last_s, Rule::max, "s",
       "when measuring began (Unix time), in the latest part: minus the earliest, the skew"},
      {"phases/start_late_s", &X::start_late_s, Rule::max, "s",
       "synchronized start (--start-at): how long after the planned time measuring began (the "
       "ramp-up overran its budget, or the process started late); 0: on time or not synchronized"},
      {"engine_version", &X::engine_version, Rule::label, "",
       "the library a reference engine ran: libcurl's version string and, for a build given "
       "by `libcurl`, its path"},
      {"share_of_run", &X::share_of_run, Rule::total, "",
       "the fraction of the whole run this result covers (parts add up to 1): the request and "
       "connect rates it was asked for are the run's times this"},
      {"listen_ports", &X::listen_ports, Rule::max, "count",
       "builtin: ports per address each server listened on (the scenario's ports, raised to spread "
       "connections)"},
      {"accounting/started", &X::added, Rule::total, "count", "transfers started (add() calls)"},
      {"accounting/ended", &X::ended_by_result, Rule::total, "count",
       "transfers ended, by result code"},
      {"accounting/still_running", &X::still_running, Rule::total, "count",
       "transfers still running when the duration ended (removed at teardown)"},
      {"accounting/reasons", &X::failure_reasons, Rule::total, "count",
       "failed transfers by result code and the reason the engine gave (OpenSSL's reason, the "
       "system error, the deadline), where it gave one"},
      {"time_to_end_us", &X::time_to_end_ns, Rule::histogram, "ns",
       "by result: how long each outcome took to surface, from add() to the end (whole run)"},
      {"phases/ramp_s", &X::ramp_s, Rule::max, "s", "ramp-up: until every connection was open"},
      {"phases/measured_s", &X::measured_s, Rule::max, "s", "the measured steady state"},
      {"connections_open", &X::open_at_measure, Rule::total, "count",
       "sockets watched when measuring began"},
      {"cpu/user_s", &X::cpu_user_s, Rule::total, "s", "user CPU during the measured phase"},
      {"cpu/sys_s", &X::cpu_sys_s, Rule::total, "s", "system CPU during the measured phase"},
      {"rss/before_kb", &X::rss_before_kb, Rule::total, "KiB",
       "resident memory before adding transfers"},
      {"rss/open_kb", &X::rss_open_kb, Rule::total, "KiB",
       "resident memory with every connection open, after the warm-up (TLS handshakes done)"},
  };
  return t;
}

int status_class(int status) {
  return std::clamp(status / 100, 1, 5);
}

std::map<std::string, std::uint64_t> RunResult::by_class() const {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [status, n] : by_status) out[std::to_string(status_class(status)) + "xx"] += n;
  return out;
}

double RunResult::connect_rate_achieved() const {
  const std::uint64_t opened =
      std::min<std::uint64_t>(added, static_cast<std::uint64_t>(config.connections));
  return ramp_s > 0 ? double(opened) / ramp_s : 0;
}

std::uint64_t RunResult::ended_total() const {
  std::uint64_t ended = 0;
  for (auto n : ended_by_result) ended += n;
  return ended;
}

bool RunResult::accounting_holds() const {
  return added == ended_total() + still_running;
}

}  // namespace msb::cli
