// Runs one RunConfig: spawns the built-in server processes (target = builtin) and as many
// worker processes as the open-files limit requires (or --workers asks), relays their
// progress to the terminal, and merges their results exactly.
//
// Sharding: each process may hold ~19,000 sockets here (hard limit 20,000, not raisable
// without CAP_SYS_RESOURCE, as in most containers), so N connections run as
// ceil(N / capacity) workers, each paired with a server process of its own, whose ports
// are new destinations: the ~28k ephemeral ports are per destination, so they never run out.
//
// Shards (--shard I/N, shard.h): this process runs shard I's share of the run, over as many
// workers as the largest shard needs, so that every shard has the same and the streams of
// the open model interleave evenly.
#pragma once

#include <atomic>
#include <string>

#include "run_config.h"
#include "shard.h"

namespace msb::cli {

struct RunnerOptions {
  int workers = 0;      // forces the worker count when > 0 (over the scenario's)
  bool tty = false;     // live progress line
  std::string label;    // shown in progress lines, e.g. "[2/6] epoll n=10000"
  Shard shard;          // which part of the whole run this process runs (shard.h)
  double start_at = 0;  // synchronized start, Unix seconds (0: now)
  std::string run_id;
};

// A synchronized start's plan: ramp-up may take this long before warm-up begins (the
// connections at the asked connect rate, and slack), so that every shard measures together.
double ramp_budget_s(const RunConfig& config);

// Sockets one process may hold for connections (the fd limit less a margin).
int connections_per_process(const std::string& backend);

RunResult run_one(const RunConfig& config, const std::atomic<bool>& stop,
                  const RunnerOptions& options);

}  // namespace msb::cli
