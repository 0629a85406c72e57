#include "runner.h"

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

RunResult run_one(const RunConfig& config, const std::atomic<bool>& stop,
                  const RunnerOptions& options) {
  const int workers = worker_count(config, options.workers);
  // Servers first, forked while this process has no threads.
  ServerFleet fleet(config, workers);
  std::vector<WorkerPlan> plans(static_cast<std::size_t>(workers));
  for (int w = 0; w < workers; ++w) {
    WorkerPlan& plan = plans[static_cast<std::size_t>(w)];
    plan.index = w;
    plan.count = workers;
    plan.connections = config.connections / workers + (w < config.connections % workers ? 1 : 0);
    plan.connect_rate = config.connect_rate / workers;
    plan.rate = config.rate / workers;
    fleet.describe(w, plan);
  }
  ProgressView view(stderr, options.tty, options.label, config.connections, workers);
  const std::vector<RunResult> parts = supervise(config, plans, stop, view);
  fleet.stop();
  RunResult merged = merge_runs(parts, workers > 1);
  merged.config = config;
  merged.listen_ports = fleet.listen_ports();
  return merged;
}

}  // namespace msb::cli
