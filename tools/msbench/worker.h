// One engine process's share of a run, phase by phase: ramp-up, warm-up, the measured
// steady state, teardown. Only the steady state goes into the histograms. The runner forks
// one worker per share (supervisor.h) and merges their results.
//
// What runs in those phases is the workload's model:
//  - trickle: one transfer per connection, added at the connect rate, each a long response;
//  - closed: `connections` clients, each sending its next request when the previous one is
//    answered (after the think time). With one kind of request each client is an engine
//    request loop on its own connection (requests_per_connection of them, then a new
//    connection; pipeline at once); with a weighted mix, each request is a transfer of its
//    own, drawn by weight, on a kept-alive connection from the engine's cache;
//  - open: requests at a constant rate, each sent when due if one of the `connections` is
//    free and queued until one is otherwise; latency counts from when it was due
//    (coordinated omission corrected, as wrk2 does) and also from when it was sent.
// The load runs through warm-up and the measured phase alike, whatever the server's speed.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "run_config.h"
#include "workload.h"

namespace msb::cli {

class Engine;

// What a worker says about itself every half second, and once as each phase ends.
struct Progress {
  std::string phase;  // ramp-up, warm-up, measuring, teardown
  std::uint64_t open = 0;
  std::uint64_t ended_ok = 0, ended_failed = 0;  // since the run began
  // The window the figures below cover: the last complete second of this phase, or, when
  // `ended`, the whole phase that just ended. 0: no complete second yet (nothing to show).
  bool ended = false;
  double window_s = 0;
  std::uint64_t calls = 0;                        // socket_action (or perform) calls in the window
  std::uint64_t requests = 0;                     // load: responses complete in the window
  double p50_us = 0, p99_us = 0;                  // socket calls in the window
  double request_p50_us = 0, request_p99_us = 0;  // load: requests in the window
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
  enum class Model { trickle, closed_loops, closed_requests, open };

  void ramp_up();   // the trickle workload's connections, or the closed model's clients
  void warm_up();   // runs, unmeasured
  void measure();   // runs with the histograms reset; counters become the phase's deltas
  void teardown();  // ends what still runs and counts it as such

  void run_for(double seconds);
  void step(std::int64_t max_wait_ns);  // one loop iteration: the engine, ended transfers, the load
  void drain();                         // reads every ended transfer
  void tick();                          // progress every 0.5 s, a time-series sample every 1 s
  void set_phase(const char* name) {
    close_phase();
    open_phase(name);
  }
  void close_phase();  // the phase's last (short) sample, and its summary to the runner
  void open_phase(const char* name);
  void take_sample(Clock::time_point now);
  void report_second();  // the last complete second of this phase, if there is one
  // What one call costs: perform() for the perform backend, else socket_action on a socket.
  const Histogram& per_call(const MultiStats& s) const;
  bool all_ended() const { return ended_ok_ + ended_failed_ >= r_.added; }

  // Load.
  void add_client(std::uint64_t client);  // the closed model's next request (or loop)
  void schedule();                        // the open model: what is due goes out
  std::int64_t wait_ns(std::int64_t max_wait_ns) const;  // until the next due request or restart
  void on_response(const Response& r);
  void on_done(const Done& d);
  void count_reason(const Done& d);
  std::uint64_t add(TransferSpec spec);

  const RunConfig& config_;
  const WorkerPlan& plan_;
  const std::atomic<bool>& stop_;
  Report report_;
  RunResult r_;
  Workload workload_;
  Model model_ = Model::trickle;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Engine> engine_;
  std::vector<std::uint64_t> ids_;  // trickle: every transfer, for teardown
  std::uint64_t ended_ok_ = 0, ended_failed_ = 0;
  LoopStats loop_before_;  // when measuring began
  bool measuring_ = false;
  bool loading_ = true;  // load models add requests until teardown

  // Closed model: clients that started (got a response or ended once), and restarts that
  // wait (the think time of a mix, or a pause after an error), by due time.
  std::vector<bool> client_started_;
  std::vector<std::uint64_t> client_ids_;  // each client's transfer now
  std::uint64_t clients_started_ = 0;
  using Restart = std::pair<std::int64_t, std::uint64_t>;
  std::priority_queue<Restart, std::vector<Restart>, std::greater<>> restarts_;
  // Open model.
  std::int64_t next_due_ns_ = 0;
  std::int64_t interval_ns_ = 0;
  std::uint64_t in_flight_ = 0;

  // Progress and the 1 s series read the same cumulative histograms: the difference from
  // the last sample is the last second, from the phase's start the whole phase. A phase
  // change cuts a sample, so every sample lies in one phase.
  std::string phase_;
  Clock::time_point run_start_, last_report_, last_sample_;
  Histogram last_hist_, requests_hist_, last_requests_hist_;
  std::uint64_t last_calls_ = 0, last_ok_ = 0, last_failed_ = 0, responses_ = 0,
                last_responses_ = 0;
  struct PhaseStart {
    Clock::time_point at;
    Histogram calls_hist, requests_hist;
    std::uint64_t calls = 0, responses = 0;
  } phase_start_;
  bool have_second_ = false;  // a complete second of this phase was sampled
};

// Runs a worker: the entry point of a worker process.
RunResult run_worker(const RunConfig& config, const WorkerPlan& plan, const std::atomic<bool>& stop,
                     const Worker::Report& report);

}  // namespace msb::cli
