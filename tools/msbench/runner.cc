#include "runner.h"

#include <algorithm>
#include <stdexcept>

#include "merge.h"
#include "progress.h"
#include "server_fleet.h"
#include "server_process.h"
#include "supervisor.h"

namespace msb::cli {

int connections_per_process(const std::string& backend) {
  const long limit = server::raise_fd_limit();
  const BackendInfo* b = find_backend(backend);
  // Room for the process's own descriptors (stdio, the loop, the pipe, c-ares) below the cap.
  if (b && b->fd_cap > 0)
    return std::max(1, std::min<int>(b->fd_cap - 64, static_cast<int>(limit) - 1000));
  return static_cast<int>(std::max(1000L, limit - 1000));
}

int worker_count(const RunConfig& config, int forced) {
  const int capacity = connections_per_process(config.backend);
  int workers = forced > 0 ? forced : config.workers;
  workers = std::max(workers, (config.connections + capacity - 1) / capacity);
  workers = std::max(1, std::min(workers, config.connections));
  if ((config.connections + workers - 1) / workers > capacity) {
    throw std::runtime_error("run: " + std::to_string(workers) + " workers cannot hold " +
                             std::to_string(config.connections) + " connections with " +
                             config.backend + " (at most " + std::to_string(capacity) +
                             " each): use more workers");
  }
  return workers;
}

double ramp_budget_s(const RunConfig& config) {
  if (config.is_load() && config.rate > 0) return 0;  // the open model has no ramp-up
  // idle-100k here (10,000 connections/s asked) ramps up in 10.0 s, whole or in 3 shards: the
  // asked rate is reached. A fifth more and a second leave room for a slower host or a slow
  // first connect without moving the measured window.
  const double nominal = config.connect_rate > 0 ? config.connections / config.connect_rate : 0;
  return std::min(kRampCapS, nominal * 1.2 + 1);
}

namespace {

// Shard `shard`'s source addresses: every N-th of the run's, so that no two shards share one
// (their local ports could collide on a shared address); then each worker's share of those.
std::vector<std::string> shard_sources(const RunConfig& config, const Shard& shard) {
  const auto& all = config.source_addresses;
  if (all.empty() || !shard.sharded()) return all;
  if (all.size() < static_cast<std::size_t>(shard.count)) {
    throw std::runtime_error("run: " + std::to_string(all.size()) +
                             " source addresses cannot be split over " +
                             std::to_string(shard.count) +
                             " shards: no two shards may share one (give at least one each)");
  }
  std::vector<std::string> mine;
  for (std::size_t i = static_cast<std::size_t>(shard.index); i < all.size();
       i += static_cast<std::size_t>(shard.count))
    mine.push_back(all[i]);
  return mine;
}

// A worker connects from its own share of its shard's addresses when there are enough of them
// (no two share an address's ports), else from all of them (one host: the kernel keeps their
// local ports apart).
std::vector<std::string> worker_sources(const std::vector<std::string>& mine, int w, int workers) {
  if (mine.size() < static_cast<std::size_t>(workers)) return mine;
  std::vector<std::string> out;
  for (std::size_t i = static_cast<std::size_t>(w); i < mine.size();
       i += static_cast<std::size_t>(workers))
    out.push_back(mine[i]);
  return out;
}

}  // namespace

RunResult run_one(const RunConfig& config, const std::atomic<bool>& stop,
                  const RunnerOptions& options) {
  const Shard& shard = options.shard;
  RunConfig local = config;  // this shard's share of the run
  local.connections = static_cast<int>(share(config.connections, shard.count, shard.index));
  if (local.connections < 1) {
    throw std::runtime_error("run: shard " + std::to_string(shard.index) + "/" +
                             std::to_string(shard.count) + " of " +
                             std::to_string(config.connections) +
                             " connections has none: run at most as many shards as connections");
  }
  RunConfig largest = config;
  largest.connections = static_cast<int>(share(config.connections, shard.count, 0));
  const int workers = std::min(worker_count(largest, options.workers), local.connections);
  const std::vector<std::string> sources = shard_sources(config, shard);
  // Servers first, forked while this process has no threads.
  ServerFleet fleet(local, workers);
  const double measure_at =
      options.start_at > 0 ? options.start_at + ramp_budget_s(config) + config.warmup_s : 0;
  std::vector<WorkerPlan> plans(static_cast<std::size_t>(workers));
  for (int w = 0; w < workers; ++w) {
    WorkerPlan& plan = plans[static_cast<std::size_t>(w)];
    plan.index = w;
    plan.count = workers;
    plan.connections = static_cast<int>(share(local.connections, workers, w));
    plan.first_connection = share_start(config.connections, shard.count, shard.index) +
                            share_start(local.connections, workers, w);
    plan.stream = shard.index + shard.count * w;
    plan.streams = shard.count * workers;
    plan.connect_rate = config.connect_rate / plan.streams;
    plan.rate = config.rate / plan.streams;
    plan.rate_offset_s = config.rate > 0 ? plan.stream / config.rate : 0;
    plan.source_addresses = worker_sources(sources, w, workers);
    plan.start_at = options.start_at;
    plan.measure_at = measure_at;
    plan.run_id = options.run_id;
    fleet.describe(w, plan);
  }
  ProgressView view(stderr, options.tty, options.label, local.connections, workers);
  const std::vector<RunResult> parts = supervise(local, plans, stop, view);
  fleet.stop();
  // The same checks as merging shards: one run, each worker once, none missing.
  std::vector<PartId> ids;
  for (const RunResult& p : parts)
    ids.push_back({"worker " + std::to_string(p.part), p.run_id, p.part, p.parts});
  const std::vector<int> missing = check_parts(ids, "worker");
  if (!missing.empty())
    throw std::runtime_error("run: " + describe_missing(missing, workers, "worker"));
  RunResult merged = merge_runs(parts, workers > 1);
  merged.config = local;
  merged.run_id = options.run_id;
  merged.part = shard.index;
  merged.parts = shard.count;
  merged.listen_ports = fleet.listen_ports();
  return merged;
}

}  // namespace msb::cli
