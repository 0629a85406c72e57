// One engine process's share of a run: ramp-up at its connect rate, warm-up, the measured
// steady state, teardown. Only the steady state goes into the per-call histograms. The
// runner (runner.h) forks one worker per share and merges their results.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "run_config.h"

namespace msb::cli {

struct WorkerPlan {
  int index = 0;                   // this worker, among `count`
  int count = 1;
  int connections = 0;             // this worker's share
  double connect_rate = 0;         // this worker's share, per second
  std::vector<std::string> bases;  // builtin: "http://addr:port" of its server's endpoints
  // builtin with names: the server's ports by address index (127.0.0.1 is index 0), and
  // the DNS server that knows n<k>.msb.test -> 127.0.0.(1 + k % addresses).
  std::vector<std::vector<int>> ports_by_address;
  std::string dns_server;
};

// What a worker says about itself every half second.
struct Progress {
  std::string phase;        // ramp-up, warm-up, measuring, teardown
  std::uint64_t open = 0;
  std::uint64_t calls = 0;  // since the run began
  std::uint64_t ended_ok = 0, ended_failed = 0;
  double p50_us = 0, p99_us = 0;  // socket calls of the last second
};

RunResult run_worker(const RunConfig& config, const WorkerPlan& plan,
                     const std::atomic<bool>& stop,
                     const std::function<void(const Progress&)>& report);

}  // namespace msb::cli
