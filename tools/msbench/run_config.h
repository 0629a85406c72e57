// One run's settings and what it measured. The run is the runner's unit: a scenario
// (coming with scenario files) resolves into one RunConfig per point of its sweep.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loop.h"
#include "msb/multi.h"

namespace msb::cli {

struct RunConfig {
  int connections = 1000;
  double active_fraction = 0.01;  // share of connections receiving a trickle
  int trickle_interval_ms = 100;  // an active connection gets trickle_bytes this often
  int trickle_bytes = 1;
  double connect_rate = 5000;     // new connections per second during ramp-up
  double warmup_s = 1;
  double duration_s = 5;          // the measured steady state
  std::string backend = "epoll";
  std::string sockindex = "resizable";
  unsigned buckets = 911;         // chained index only
  std::string timers = "splay";
  bool instrument = true;
};

struct RunResult {
  RunConfig config;
  MultiStats engine;  // at the end of the measured phase; histograms hold only that phase
  LoopStats loop;     // during the measured phase
  std::uint64_t added = 0;
  std::uint64_t open_at_measure = 0;       // sockets watched when measuring began
  std::uint64_t still_running = 0;         // removed at teardown (the duration ended)
  std::vector<std::uint64_t> ended_by_result;  // transfers that ended, by Result
  double ramp_s = 0, measured_s = 0;
  double cpu_user_s = 0, cpu_sys_s = 0;    // during the measured phase
  long rss_before_kb = 0, rss_open_kb = 0; // before adding, and with all connections open
  bool interrupted = false;                // Ctrl-C: a partial result

  // started = ended (any result) + still running: a mismatch is an engine bug.
  bool accounting_holds() const;
};

}  // namespace msb::cli
