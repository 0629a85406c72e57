// msbench: the command line. Exit codes (README, "Exit codes"):
//   0   every run finished, accounting held and [expect] (if any) was met
//   1   a run failed: accounting mismatch, an [expect] line missed, an engine error
//   2   bad usage or input: options, scenario files, results files to merge
//   3   a run in which no transfer succeeded (none ok, none still open, no request
//       answered), unless [expect] names result codes: then the table decides
//   130 interrupted (SIGINT/SIGTERM): the results so far are written, marked partial
#include <signal.h>
#include <unistd.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "compare.h"
#include "expect.h"
#include "merge.h"
#include "provenance.h"
#include "results_json.h"
#include "runner.h"
#include "scenario.h"
#include "server_process.h"
#include "shard.h"
#include "summary.h"
#include "trickle_server.h"
#include "version.h"

namespace {

std::atomic<bool> g_stop{false};
msb::server::TrickleServer* g_server = nullptr;

void on_signal(int) {
  g_stop = true;
  if (g_server) g_server->request_stop();
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int cmd_serve(msb::server::ServerOptions options) {
  msb::server::raise_fd_limit();
  std::string made_dir;  // a certificate made for this server, removed when it stops
  if (options.tls_port_count > 0 && options.tls.cert_file.empty()) {
    char dir[] = "/tmp/msbench-serve-XXXXXX";
    if (!::mkdtemp(dir)) throw std::runtime_error("cannot make a directory for the certificate");
    made_dir = dir;
    options.tls = msb::server::make_self_signed(made_dir, options.addresses);
  } else if (options.tls.key_file.empty()) {
    options.tls.key_file = options.tls.cert_file;  // one PEM with both
  }
  msb::server::TrickleServer srv(options);
  if (!made_dir.empty())
    std::printf("certificate: %s (self-signed: clients trust it as their CA file)\n",
                options.tls.cert_file.c_str());
  for (const auto& e : srv.endpoints()) {
    if (e.fault.empty()) {
      std::printf("listening on %s\n", e.url("/").c_str());
    } else {
      std::printf("TLS fault %s on %s\n", e.fault.c_str(), e.url("/").c_str());
    }
  }
  std::fflush(stdout);
  g_server = &srv;
  install_signal_handlers();
  srv.run();
  g_server = nullptr;
  const auto s = srv.stats();
  std::printf("served %llu connections, %llu requests, %llu body bytes\n",
              static_cast<unsigned long long>(s.accepted),
              static_cast<unsigned long long>(s.requests),
              static_cast<unsigned long long>(s.body_bytes_sent));
  if (options.tls_port_count > 0) {
    std::printf("TLS: %llu handshakes (%llu resumed), %llu failed\n",
                static_cast<unsigned long long>(s.tls_handshakes),
                static_cast<unsigned long long>(s.tls_resumed),
                static_cast<unsigned long long>(s.tls_handshake_failed));
  }
  if (!made_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(made_dir, ignored);
  }
  return 0;
}

struct RunArgs {
  std::vector<std::string> files, overrides;
  int workers = 0;
  std::string out, shard, start_at, run_id;
};

// Between two sweep points of a synchronized run, every shard waits for the next planned
// start: the previous point's measuring end plus this, longer than a load's drain
// (kDrainCapS, 10 s) and a teardown of a million idle connections (~3 s).
constexpr double kNextStartGapS = 15;

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

int cmd_run(const RunArgs& args) {
  // Every scenario is read before anything runs: a typo in the third file must not cost
  // the first two runs.
  std::vector<msb::cli::Scenario> scenarios;
  msb::cli::Shard shard;
  double start_at = 0;
  try {
    for (const auto& f : args.files)
      scenarios.push_back(msb::cli::load_scenario(f, args.overrides));
    if (!args.shard.empty()) {
      shard = msb::cli::parse_shard(args.shard);
    } else if (const auto from_env = msb::cli::shard_from_environment()) {
      shard = *from_env;
    }
    // A Job's manifest passes the start time in the environment (deploy/kubernetes/job.yaml).
    const char* env_start = std::getenv("MSBENCH_START_AT");
    const std::string start_text = !args.start_at.empty() ? args.start_at
                                   : env_start            ? env_start
                                                          : "";
    if (!start_text.empty()) start_at = msb::cli::parse_start_at(start_text);
    for (const auto& sc : scenarios) {
      for (const auto& cfg : sc.runs) {
        if (cfg.connections < shard.count) {
          throw std::invalid_argument(fmt::format(
              "{}: {} connections cannot be split over {} shards (each needs at least one)",
              sc.file, cfg.connections, shard.count));
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "msbench: %s\n", e.what());
    return 2;
  }
  const std::string& out = args.out;
  if (!out.empty()) {
    if (scenarios.size() != 1) {
      std::fprintf(stderr, "msbench: --out goes with a single scenario file\n");
      return 2;
    }
    scenarios[0].output = out;
    scenarios[0].resolved["output"] = out;
  }
  install_signal_handlers();
  const bool tty = isatty(STDERR_FILENO);
  bool accounted = true;
  std::vector<std::string> missed;  // [expect] lines a run did not meet
  std::vector<std::string> failed;  // runs in which nothing succeeded
  const double started = msb::cli::unix_now();
  double next_start = start_at;
  for (const auto& sc : scenarios) {
    const std::string digest = msb::cli::scenario_digest(sc.resolved);
    const std::string run_id = msb::cli::run_id(args.run_id, digest, start_at, started);
    const nlohmann::json run_facts = {
        {"id", run_id},
        {"shard", {{"index", shard.index}, {"count", shard.count}, {"from", shard.from}}},
        {"host", host_name()},
        {"clock", msb::cli::clock_facts()},
        {"start_at", start_at > 0 ? nlohmann::json(start_at) : nlohmann::json()},
        {"scenario_digest", digest}};
    if (shard.sharded()) {
      std::printf("%s: shard %d/%d of run %s (from %s)\n", sc.name.c_str(), shard.index,
                  shard.count, run_id.c_str(), shard.from.c_str());
    }
    std::vector<msb::cli::RunResult> results;
    for (std::size_t i = 0; i < sc.runs.size() && !g_stop; ++i) {
      const auto& cfg = sc.runs[i];
      msb::cli::RunnerOptions ro;
      ro.workers = args.workers;
      ro.tty = tty;
      ro.shard = shard;
      ro.run_id = run_id;
      if (next_start > 0) {
        ro.start_at = next_start;
        const double wait = next_start - msb::cli::unix_now();
        std::fprintf(stderr, "msbench: run %zu starts at %.3f (Unix time), %s\n", i + 1, next_start,
                     wait > 0 ? fmt::format("in {:.1f} s", wait).c_str()
                              : fmt::format("{:.1f} s ago: this shard is late", -wait).c_str());
        next_start += msb::cli::ramp_budget_s(cfg) + cfg.warmup_s + cfg.duration_s + kNextStartGapS;
      }
      // The socket index is msbench's own: the reference engines do not use it.
      ro.label = fmt::format("{} [{}/{}] {} {}{} {} conns", sc.name, i + 1, sc.runs.size(),
                             cfg.engine, cfg.backend,
                             cfg.engine == "msbench" ? " " + cfg.sockindex : "", cfg.connections);
      results.push_back(msb::cli::run_one(cfg, g_stop, ro));
      if (!results.back().accounting_holds()) accounted = false;
      if (!g_stop) {
        for (const auto& miss : msb::cli::missed_expectations(sc.expect, results.back())) {
          missed.push_back(fmt::format("run {}: {}", i + 1, miss));
        }
        const std::string none = msb::cli::nothing_succeeded(results.back());
        if (!none.empty() && !msb::cli::expect_names_codes(sc.expect))
          failed.push_back(fmt::format("{} run {}: {}", sc.name, i + 1, none));
      }
    }
    if (results.size() == 1) {
      msb::cli::print_summary(results[0], stdout);
    } else if (!results.empty()) {
      std::printf("\n%s: %zu runs%s\n", sc.name.c_str(), results.size(),
                  g_stop ? " (interrupted: PARTIAL)" : "");
      msb::cli::print_table(results, stdout);
      msb::cli::print_comparison(results, stdout);
    }
    auto doc = msb::cli::results_document(sc.resolved, results);
    doc["run"] = run_facts;
    doc["partial"] = g_stop.load() || results.size() < sc.runs.size();
    msb::cli::write_json(doc, sc.output);
    std::printf("\nresults: %s\n", sc.output.c_str());
    std::fflush(stdout);
    if (g_stop) break;
  }
  if (!accounted) {
    std::fprintf(stderr, "msbench: accounting mismatch: transfers started != ended + running\n");
    return 1;
  }
  for (const auto& m : missed) std::fprintf(stderr, "msbench: %s\n", m.c_str());
  if (!missed.empty()) return 1;
  for (const auto& f : failed) std::fprintf(stderr, "msbench: %s\n", f.c_str());
  if (g_stop) {
    std::fprintf(stderr, "msbench: interrupted: the results written are partial\n");
    return 130;  // 128 + SIGINT, as a shell reports an interrupted command
  }
  if (!failed.empty()) return 3;
  return 0;
}

int cmd_merge(const std::vector<std::string>& files, const std::string& out, bool allow_partial) {
  std::vector<nlohmann::json> docs;
  for (const auto& f : files) docs.push_back(msb::cli::read_results(f));
  const msb::cli::MergedFiles m = msb::cli::merge_files(files, std::move(docs), allow_partial);
  for (const auto& w : m.warnings) std::fprintf(stderr, "msbench: %s\n", w.c_str());
  msb::cli::write_json(m.doc, out);
  msb::cli::print_table(m.runs, stdout);
  std::printf("\n%s\nmerged %zu files into %s%s\n", m.summary.c_str(), files.size(), out.c_str(),
              m.doc["partial"].get<bool>() ? " (PARTIAL: shards missing)" : "");
  return 0;
}

int cmd_keys(const std::string& values_of) {
  if (!values_of.empty()) {
    // The allowed values as a TOML list, ready for --set (the ctest sweeps use it).
    for (const auto& k : msb::cli::scenario_keys()) {
      if (k.name != values_of) continue;
      if (k.choices.empty()) {
        std::fprintf(stderr, "msbench: key '%s' takes any %s, not one of a list\n", k.name.c_str(),
                     k.type.c_str());
        return 2;
      }
      std::string list;
      for (const auto& c : k.choices) {
        // A backend this machine cannot start is left out of a sweep, saying why.
        if (k.name == "backend") {
          if (const std::string why = msb::backend_unavailable(c); !why.empty()) {
            std::fprintf(stderr, "msbench: backend %s left out: %s\n", c.c_str(), why.c_str());
            continue;
          }
        }
        list += (list.empty() ? "" : ",") + ("\"" + c + "\"");
      }
      std::printf("[%s]\n", list.c_str());
      return 0;
    }
    std::fprintf(stderr, "msbench: no scenario key '%s'\n", values_of.c_str());
    return 2;
  }
  for (const auto& k : msb::cli::scenario_keys()) {
    std::printf("  %-24s %-8s %s\n", k.name.c_str(), k.type.c_str(), k.help.c_str());
    if (!k.choices.empty()) {
      std::string list;
      for (const auto& c : k.choices) list += (list.empty() ? "" : ", ") + c;
      std::printf("  %-24s %-8s one of: %s\n", "", "", list.c_str());
    }
  }
  std::printf(
      "\nAny swept key may be a list: the runner runs the product of all lists.\n"
      "\n[expect] (a table of its own): what the transfers must end as, checked after each run.\n"
      "  KEY = N | \"all\" | \"some\" | \"none\", where KEY is a result code, still_running,\n"
      "  an HTTP status (\"404\") or a class (\"5xx\"). A table naming result codes accounts for\n"
      "  every transfer: codes it does not name must not occur. A miss exits 1.\n"
      "  Result codes:");
  for (int i = 0; i < msb::kResultCount; ++i)
    std::printf("%s%s", i % 6 ? " " : "\n    ", msb::result_name(static_cast<msb::Result>(i)));
  std::printf("\n");
  return 0;
}

// What the first word names when it is not a subcommand: CLI11 would only say that one is
// required.
bool unknown_subcommand(int argc, char** argv, const CLI::App& app) {
  if (argc < 2 || argv[1][0] == '-') return false;
  for (const CLI::App* sub : app.get_subcommands({}))
    if (sub->check_name(argv[1])) return false;
  std::string names;
  for (const CLI::App* sub : app.get_subcommands({}))
    names += (names.empty() ? "" : ", ") + sub->get_name();
  std::fprintf(stderr, "msbench: unknown subcommand '%s' (subcommands: %s; msbench --help)\n",
               argv[1], names.c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // A write to a socket the peer has closed fails with EPIPE instead of ending the process:
  // the TLS floor's OpenSSL socket BIO writes with write() (the engine and libcurl guard
  // their own writes).
  signal(SIGPIPE, SIG_IGN);
  msb::cli::record_invocation(argc, argv);
  CLI::App app{
      "msbench: high-connection benchmarks of a multi_socket HTTP/1.1 engine.\n"
      "  msbench run scenarios/quick.toml            run a scenario script\n"
      "  msbench run s.toml --set connections=[1000,5000] --set backend=poll\n"
      "  msbench keys                                what a scenario may set"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       fmt::format("msbench {} ({} build{})", msb::cli::kVersionDescribe,
                                   msb::cli::kVersionBuildType,
                                   msb::cli::kVersionDirty ? ", uncommitted changes" : ""));
  app.footer(
      "Exit codes: 0 ok; 1 a run failed or [expect] missed; 2 usage or scenario error;\n"
      "3 no transfer succeeded (unless [expect] names result codes); 130 interrupted (results\n"
      "written, marked partial).");

  RunArgs ra;
  auto* run = app.add_subcommand("run", "Run scenario scripts (TOML) and write their results");
  run->add_option("scenarios", ra.files, "Scenario files")->required()->check(CLI::ExistingFile);
  run->add_option("--set", ra.overrides,
                  "Override a scenario key: key=value (a TOML value; a list sweeps)");
  run->add_option("--workers", ra.workers,
                  "Client processes per run (default: as the fd limit requires)")
      ->check(CLI::Range(1, 1024));
  run->add_option("--out,-o", ra.out, "Results file (one scenario only; default: its `output`)");
  run->add_option("--shard", ra.shard,
                  "Run shard I of N of every sweep point (I/N; default: from JOB_COMPLETION_INDEX "
                  "+ MSBENCH_SHARD_COUNT or SLURM_PROCID + SLURM_NTASKS, else 0/1)");
  run->add_option("--start-at", ra.start_at,
                  "Begin at this wall-clock time, so that all shards measure together (RFC 3339 "
                  "or Unix seconds; default: MSBENCH_START_AT)");
  run->add_option("--run-id", ra.run_id,
                  "The run the shards belong to (default: MSBENCH_RUN_ID, the Slurm job, or the "
                  "scenario's digest and the start time)");

  msb::server::ServerOptions serve_opt;
  auto* serve = app.add_subcommand("serve", "Run the built-in trickle server in the foreground");
  serve->add_option("--address", serve_opt.addresses, "Addresses to listen on (repeatable)")
      ->capture_default_str();
  serve->add_option("--port", serve_opt.first_port, "First port (0: ephemeral)");
  serve->add_option("--ports", serve_opt.port_count, "Number of consecutive ports per address")
      ->check(CLI::Range(0, 4096));
  serve
      ->add_option("--https-ports", serve_opt.tls_port_count,
                   "https:// ports per address, after the plain ones")
      ->check(CLI::Range(0, 4096));
  serve
      ->add_option("--cert", serve_opt.tls.cert_file,
                   "https: the certificate (PEM; default: a self-signed one made at start, its "
                   "path printed)")
      ->check(CLI::ExistingFile);
  serve
      ->add_option("--key", serve_opt.tls.key_file, "https: its private key (PEM; default: --cert)")
      ->check(CLI::ExistingFile);
  {
    std::string paths = "\nPaths (HEAD gets the headers only; body byte i is 'a' + i % 26):\n";
    for (const auto& r : msb::server::routes())
      paths += fmt::format("  {:<20} {}\n", r.path, r.what);
    paths +=
        "Requests are read as RFC 9112 asks of a server: bodies (Content-Length or chunked) are\n"
        "consumed, pipelined requests answered in order, HTTP/1.0 kept alive when asked, and what\n"
        "cannot be framed answered 400/413/414/431/501/505 and closed.";
    serve->footer(paths);
  }

  std::vector<std::string> merge_files;
  std::string merge_out;
  auto* merge = app.add_subcommand(
      "merge", "Add results of the same scenario from several processes or hosts");
  merge->add_option("results", merge_files, "Results files")->required()->check(CLI::ExistingFile);
  merge->add_option("--out,-o", merge_out, "Merged results file")->required();
  bool allow_partial = false;
  merge->add_flag("--allow-partial", allow_partial,
                  "Merge the shards that are there when some are missing (marked partial)");

  auto* keys = app.add_subcommand("keys", "List the keys a scenario file may set");
  std::string values_of;
  keys->add_option("--values", values_of,
                   "Print the values KEY may take, as a TOML list (backends: those that can start "
                   "here)");

  if (unknown_subcommand(argc, argv, app)) return 2;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (*serve) return cmd_serve(serve_opt);
    if (*run) return cmd_run(ra);
    if (*merge) return cmd_merge(merge_files, merge_out, allow_partial);
    if (*keys) return cmd_keys(values_of);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "msbench: %s\n", e.what());
    return *merge ? 2 : 1;
  }
  return 2;
}
