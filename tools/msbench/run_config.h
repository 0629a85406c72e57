// One run's settings (RunConfig) and what it measured (RunResult), each with its table.
//
// A scenario resolves into one RunConfig per point of its sweep; config_keys() is at once
// the list of scenario keys (`msbench keys`), the "config" object of a results file, and
// the rule for which settings must agree when parts of a run are merged. run_fields() and
// sample_fields() do the same for the results. Adding a key or a metric is one member and
// one row (tests/cli round-trips every row through a results file and a merge).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "msb/backend.h"
#include "msb/fields.h"
#include "msb/multi.h"

namespace msb::cli {

// "http://..." or "https://..." with something after the scheme.
bool is_web_url(const std::string& s);

struct RunConfig {
  std::string target = "builtin";
  std::string scheme = "http";  // builtin: which listeners, http:// or https://
  StringList targets;  // URLs the shards and their workers spread over, instead of `target`
  // Load: what each request asks. A path, method, headers and body for one kind of request,
  // or [[request]] tables (each kept as a compact JSON object: url or path, method, headers,
  // body, weight) for a weighted mix. With neither, a builtin target runs the trickle
  // workload (one long response per connection).
  std::string path;
  std::string method = "GET";
  StringList headers;
  std::string body;  // the text, or @file
  StringList requests;
  int requests_per_connection = -1;  // -1: 0 (keep-alive for the whole run) for load, else 1
  double rate = 0;                   // > 0: the open model, requests per second over all workers
  int think_time_ms = 0;
  int pipeline = 1;
  StringList source_addresses;
  int addresses = 1;
  int ports = 1;
  int connections = 1000;
  double active_fraction = 0.01;
  int trickle_interval_ms = 100;
  int trickle_bytes = 1;
  double connect_rate = 5000;
  double warmup_s = 1;
  double duration_s = 5;
  std::string engine = "msbench";
  std::string libcurl;  // the libcurl build the libcurl engine loads; "": the linked one
  std::string backend = "epoll";
  std::string sockindex = "direct";
  std::uint32_t buckets = 911;
  std::string timers = "splay";
  bool instrument = true;
  int names = 0;
  std::uint32_t dns_timeout_ms = 5000;
  std::uint32_t dns_max_in_flight = 128;
  std::string fault = "none";
  double fault_fraction = 0;
  std::uint32_t total_timeout_ms = 0;
  std::uint32_t connect_timeout_ms = 0;
  std::uint32_t low_speed_limit = 0;
  std::uint32_t low_speed_time_ms = 0;
  std::string ca_file;    // https: CA certificates to trust ("": the system's; builtin: its own)
  bool insecure = false;  // https: accept any certificate
  bool tls_resumption = true;  // https: reconnects resume the origin's last session
  int fd_limit = 0;
  int local_ports = 0;
  std::uint64_t seed = 1;
  int workers = 0;
  int repetition = 0;
  int pair = 0;

  // A request workload (a path, [[request]] tables, or a URL target), not the trickle one.
  bool is_load() const { return !path.empty() || !requests.empty() || !builtin(); }
  // The built-in server is started for the run (no URL target).
  bool builtin() const { return target == "builtin" && targets.empty(); }
  // What requests_per_connection means here (-1 resolved).
  int effective_requests_per_connection() const {
    return requests_per_connection >= 0 ? requests_per_connection : (is_load() ? 0 : 1);
  }
};

// A RunConfig row: a field (rule label: the same in every part of a run; total: parts'
// shares add up to the run's) and, for scenario keys, what values it takes.
struct ConfigKey {
  const char* name;
  FieldMember<RunConfig> member;
  Rule rule;
  const char* unit;
  const char* help;
  double min = 0, max = 0;                             // integer and number keys
  std::vector<std::string> (*choices)() = nullptr;     // a string key's values; null: any
  std::string (*check)(const std::string&) = nullptr;  // "" if the value is fine
  bool scenario = true;       // false: set by the runner for each run, not by a scenario
  bool builtin_only = false;  // means something only with the built-in server
};
const std::vector<ConfigKey>& config_keys();
const ConfigKey* find_config_key(const std::string& name);
// "integer", "number", "string" or "boolean", from the member's type.
const char* key_type(const ConfigKey& k);

// One second of a run, for the time series.
// One point of the time series: a second, or the shorter piece that ends a phase (a phase
// change cuts a sample, so each lies in one phase).
struct Sample {
  std::string phase;
  double t_s = 0;   // its end, since the run began
  double dt_s = 0;  // its length
  std::uint64_t open = 0;
  std::uint64_t calls = 0;
  std::uint64_t requests = 0;
  std::uint64_t ended_ok = 0;
  std::uint64_t ended_failed = 0;
  double p50_us = 0, p99_us = 0;
  double request_p50_us = 0, request_p99_us = 0;
};
const FieldTable<Sample>& sample_fields();

struct RunResult {
  RunConfig config;
  MultiStats engine;  // at the end of the measured phase; histograms hold only that phase
  LoopStats loop;     // during the measured phase
  std::uint64_t added = 0;
  std::uint64_t open_at_measure = 0;
  std::uint64_t still_running = 0;
  ResultCounts ended_by_result{};
  ResultHistograms time_to_end_ns;  // by Result: from add() to the end (whole run)
  // Failed transfers by "code: reason" where the engine gives one (OpenSSL's reason and the
  // verification's, the system error, the deadline); at most kMaxReasons kinds per
  // process, the rest as one.
  ReasonCounts failure_reasons;
  static constexpr std::size_t kMaxReasons = 32;
  double ramp_s = 0, measured_s = 0;
  double cpu_user_s = 0, cpu_sys_s = 0;
  std::int64_t rss_before_kb = 0, rss_open_kb = 0;
  bool interrupted = false;
  // Load: every request of the run (ramp-up to the drain at the end: what the server saw),
  // and the measured phase's share, for rates; the histograms are the measured phase's.
  std::uint64_t requests_completed = 0;
  std::uint64_t requests_failed = 0;
  std::uint64_t response_body_bytes = 0;
  StatusCounts by_status;
  std::uint64_t requests_measured = 0;
  std::uint64_t measured_body_bytes = 0;
  Histogram request_ns;              // from when it was due (open model) or sent (closed)
  Histogram request_uncorrected_ns;  // open model: from when it was sent
  Histogram connect_ns;
  Histogram first_byte_ns;            // from when it was sent
  std::uint64_t requests_behind = 0;  // open model: due, not yet sent, when measuring ended
  int workers = 1;
  int listen_ports = 0;
  // Which run this is part of, and which part (a worker among its shard's, a shard among the
  // run's; 0 of 1 for a whole run): merges refuse parts of other runs, the same part twice
  // and, unless asked, missing parts (merge.h, check_parts). `part`/`parts` are not merged.
  std::string run_id;
  int part = 0, parts = 1;
  // When measuring began, Unix seconds, in the earliest and the latest part (their difference
  // is the skew between shards), and how late a synchronized start (--start-at) measured.
  double measure_start_first_s = 0, measure_start_last_s = 0;
  double start_late_s = 0;
  // The fraction of the whole run this result covers (a worker's: 1 / (shards x workers));
  // parts add up to 1. The rates a part was asked for are the run's times this.
  double share_of_run = 1;
  std::string engine_version;         // a reference engine's library (Engine::version())
  std::vector<Sample> series;         // sample_fields()
  std::vector<RunResult> per_worker;  // each worker's own result, when workers > 1

  // started = ended (any result) + still running: a mismatch is an engine bug.
  bool accounting_holds() const;
  std::uint64_t ended_total() const;
  bool is_load() const { return config.is_load(); }
  // Load, over the measured phase.
  double requests_per_s() const {
    return measured_s > 0 ? double(requests_measured) / measured_s : 0;
  }
  double body_bytes_per_s() const {
    return measured_s > 0 ? double(measured_body_bytes) / measured_s : 0;
  }
  // Completed responses by status class, "1xx" .. "5xx" (600-999 count as 5xx).
  std::map<std::string, std::uint64_t> by_class() const;
  // Connections per second during ramp-up (what the connect rate achieved).
  double connect_rate_achieved() const;
  // This result's share of the run's request rate and connect rate.
  double rate_asked() const { return config.rate * share_of_run; }
  double connect_rate_asked() const { return config.connect_rate * share_of_run; }
};
// A status's class digit: 1 to 5; the invalid 600-999 count as 5 (RFC 9110 §15).
int status_class(int status);

// RunResult's own fields; config, engine, loop and series have their tables, and per_worker
// holds RunResults.
const FieldTable<RunResult>& run_fields();

}  // namespace msb::cli
