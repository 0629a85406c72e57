// One engine process's share of a run, phase by phase: ramp-up at its connect rate,
// warm-up, the measured steady state, teardown. Only the steady state goes into the
// per-call histograms. The runner forks one worker per share (supervisor.h) and merges
// their results.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "run_config.h"
#include "workload.h"

namespace msb::cli {

class Engine;

// What a worker says about itself every half second.
struct Progress {
  std::string phase;  // ramp-up, warm-up, measuring, teardown
  std::uint64_t open = 0;
  std::uint64_t calls = 0;  // since the run began
  std::uint64_t ended_ok = 0, ended_failed = 0;
  double p50_us = 0, p99_us = 0;  // socket calls of the last second
};

class Worker {
 public:
  using Report = std::function<void(const Progress&)>;
  Worker(const RunConfig& config, const WorkerPlan& plan, const std::atomic<bool>& stop,
         Report report);
  ~Worker();

  // Runs every phase and returns this worker's result.
  RunResult run();

 private:
  using Clock = std::chrono::steady_clock;

  void ramp_up();   // adds transfers at the connect rate until every connection is open
  void warm_up();   // runs, unmeasured
  void measure();   // runs with the histograms reset; counters become the phase's deltas
  void teardown();  // removes what still runs and counts it as such

  void run_for(double seconds);
  void drain();  // reads every ended transfer
  void tick();   // progress every 0.5 s, a time-series sample every 1 s
  void set_phase(const char* name);
  bool all_ended() const { return ended_ok_ + ended_failed_ >= ids_.size(); }

  const RunConfig& config_;
  const WorkerPlan& plan_;
  const std::atomic<bool>& stop_;
  Report report_;
  RunResult r_;
  Workload workload_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Engine> engine_;
  std::vector<std::uint64_t> ids_;
  std::uint64_t ended_ok_ = 0, ended_failed_ = 0;
  LoopStats loop_before_;  // when measuring began

  // Progress and the 1 s series read the same cumulative histogram: the difference from
  // the last sample is the last second.
  std::string phase_ = "ramp-up";
  Clock::time_point run_start_, last_report_, last_sample_;
  Histogram last_hist_;
  std::uint64_t last_calls_ = 0, last_ok_ = 0, last_failed_ = 0;
};

// Runs a worker: the entry point of a worker process.
RunResult run_worker(const RunConfig& config, const WorkerPlan& plan, const std::atomic<bool>& stop,
                     const Worker::Report& report);

}  // namespace msb::cli
