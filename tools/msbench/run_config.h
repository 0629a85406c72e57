// One run's settings and what it measured. The run is the runner's unit: a scenario
// (coming with scenario files) resolves into one RunConfig per point of its sweep.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "msb/backend.h"
#include "msb/multi.h"

namespace msb::cli {

struct RunConfig {
  std::string target = "builtin";  // "builtin" (spawned trickle server) or an http:// URL
  int addresses = 1;              // builtin: each server listens on 127.0.0.1 .. 127.0.0.N
  int ports = 1;                  // builtin: ports per address per server process
  int connections = 1000;
  double active_fraction = 0.01;  // share of connections receiving a trickle
  int trickle_interval_ms = 100;  // an active connection gets trickle_bytes this often
  int trickle_bytes = 1;
  double connect_rate = 5000;     // new connections per second during ramp-up
  double warmup_s = 1;
  double duration_s = 5;          // the measured steady state
  std::string engine = "msbench";  // "msbench", or a reference: "libcurl", "floor"
  std::string backend = "epoll";
  std::string sockindex = "resizable";
  unsigned buckets = 911;         // chained index only
  std::string timers = "splay";
  bool instrument = true;
  int names = 0;                  // builtin: connect by host names n<k>.msb.test (0: by
                                  // address), served by a dnsmasq the runner starts
  std::uint32_t dns_timeout_ms = 5000;
  std::uint32_t dns_max_in_flight = 128;
  std::string fault = "none";     // builtin: misbehaviour for fault_fraction of connections
  double fault_fraction = 0;
  // Per-transfer limits. total_timeout_ms 0: long enough never to cut a run short (the
  // ramp-up cap + warm-up + duration + 60 s), so a silent server still cannot hold a
  // transfer past its run.
  std::uint32_t total_timeout_ms = 0;
  std::uint32_t connect_timeout_ms = 0;   // 0: none
  std::uint32_t low_speed_limit = 0;      // bytes/s; 0: off
  std::uint32_t low_speed_time_ms = 0;
  int fd_limit = 0;               // >0: each worker's open-files limit (EMFILE); 0: the most
  int local_ports = 0;            // >0: each worker connects from only this many local ports
                                  // (port exhaustion, EADDRNOTAVAIL); 0: the system's range
  std::uint64_t seed = 1;         // picks which connections are active or faulty
  int workers = 0;                // client processes; 0: as many as the fd limit requires
  int repetition = 0;             // which repetition of its sweep point this run is
  int pair = 0;                   // runs with the same pair differ only in engine: their
                                  // ratios are taken pair by pair (see compare.h)
};

// One second of a run, for the time series.
struct Sample {
  double t_s = 0;              // seconds since the run (ramp-up) began
  std::uint64_t open = 0;      // sockets watched
  std::uint64_t calls = 0;     // socket_action (or perform) calls in this second
  std::uint64_t ended_ok = 0;  // transfers ended ok / otherwise in this second
  std::uint64_t ended_failed = 0;
  double p50_us = 0, p99_us = 0;  // of this second's socket calls (merged: the worst worker)
};

struct RunResult {
  RunConfig config;
  MultiStats engine;  // at the end of the measured phase; histograms hold only that phase
  LoopStats loop;     // during the measured phase
  std::uint64_t added = 0;
  std::uint64_t open_at_measure = 0;       // sockets watched when measuring began
  std::uint64_t still_running = 0;         // removed at teardown (the duration ended)
  std::vector<std::uint64_t> ended_by_result;  // transfers that ended, by Result
  std::map<int, Histogram> time_to_end_ns;     // by Result: from add() to the end (whole run)
  double ramp_s = 0, measured_s = 0;
  double cpu_user_s = 0, cpu_sys_s = 0;    // during the measured phase
  long rss_before_kb = 0, rss_open_kb = 0; // before adding, and with all connections open
  bool interrupted = false;                // Ctrl-C: a partial result
  std::vector<Sample> series;              // one sample per second
  int workers = 1;                         // engine processes merged into this result
  int listen_ports = 0;                    // builtin: ports per address each server listened
                                           // on (config.ports, raised to spread connections)
  std::vector<RunResult> per_worker;       // each worker's own result, when workers > 1

  // started = ended (any result) + still running: a mismatch is an engine bug.
  bool accounting_holds() const;
};

}  // namespace msb::cli
