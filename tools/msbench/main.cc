// msbench: the command line. Exit codes: 0 success, 1 run failed, 2 bad usage or input.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <iostream>

#include "results_json.h"
#include "run.h"
#include "server_process.h"
#include "summary.h"
#include "trickle_server.h"

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

int cmd_serve(const msb::server::ServerOptions& options) {
  msb::server::raise_fd_limit();
  msb::server::TrickleServer srv(options);
  for (const auto& e : srv.endpoints()) std::printf("listening on %s\n", e.url("/").c_str());
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
  return 0;
}

int cmd_run(const msb::cli::RunConfig& config, const std::string& out) {
  install_signal_handlers();
  const auto result = msb::cli::run_against_builtin(config, g_stop, isatty(STDERR_FILENO));
  msb::cli::print_summary(result, stdout);
  msb::cli::write_json(msb::cli::results_document({result}), out);
  std::printf("\nresults: %s\n", out.c_str());
  if (!result.accounting_holds()) {
    std::fprintf(stderr, "msbench: accounting mismatch: transfers lost (engine bug)\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"msbench: high-connection benchmarks of a multi_socket HTTP/1.1 engine"};
  app.require_subcommand(1);

  msb::server::ServerOptions serve_opt;
  auto* serve = app.add_subcommand("serve", "Run the built-in trickle server in the foreground");
  serve->add_option("--address", serve_opt.addresses, "Addresses to listen on (repeatable)")
      ->capture_default_str();
  serve->add_option("--port", serve_opt.first_port, "First port (0: ephemeral)");
  serve->add_option("--ports", serve_opt.port_count, "Number of consecutive ports per address")
      ->check(CLI::Range(1, 4096));

  msb::cli::RunConfig cfg;
  std::string out = "out/results.json";
  auto* run = app.add_subcommand(
      "run", "Hold many mostly idle connections against the built-in server and measure "
             "socket_action");
  run->add_option("--connections,-n", cfg.connections, "Connections to open")
      ->check(CLI::Range(1, 1'000'000))->capture_default_str();
  run->add_option("--active", cfg.active_fraction, "Fraction of connections that get a trickle")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  run->add_option("--trickle-ms", cfg.trickle_interval_ms, "Trickle interval per active connection")
      ->check(CLI::Range(1, 3'600'000))->capture_default_str();
  run->add_option("--trickle-bytes", cfg.trickle_bytes, "Bytes per trickle")
      ->check(CLI::Range(1, 65536))->capture_default_str();
  run->add_option("--rate", cfg.connect_rate, "Connections opened per second during ramp-up")
      ->check(CLI::PositiveNumber)->capture_default_str();
  run->add_option("--warmup", cfg.warmup_s, "Warm-up seconds (not measured)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  run->add_option("--duration,-d", cfg.duration_s, "Measured seconds")
      ->check(CLI::PositiveNumber)->capture_default_str();
  run->add_option("--backend", cfg.backend, "Event loop")
      ->check(CLI::IsMember(msb::loop_names()))->capture_default_str();
  run->add_option("--sockindex", cfg.sockindex, "Socket index variant")
      ->check(CLI::IsMember({"chained", "resizable", "direct"}))->capture_default_str();
  run->add_option("--buckets", cfg.buckets, "Buckets of the chained socket index")
      ->check(CLI::Range(1u, 1u << 24))->capture_default_str();
  run->add_flag("!--no-instrument", cfg.instrument, "Do not time socket_action calls");
  run->add_option("--out,-o", out, "Results JSON file")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (*serve) return cmd_serve(serve_opt);
    if (*run) return cmd_run(cfg, out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "msbench: %s\n", e.what());
    return 1;
  }
  return 2;
}
