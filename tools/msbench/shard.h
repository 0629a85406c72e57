// Execution segments: one test run as N cooperating processes, usually on N hosts started by a
// cluster engine (a Kubernetes Indexed Job, a Slurm job step), each running shard I of N of
// every sweep point. Everything a run divides is split here so that the shards' shares add
// up to the scenario's totals exactly, and a run made of shards equals one made whole:
//  - counts (connections) by share(): total/N, one more for the first total % N shards;
//  - each connection keeps its place in the whole run (first_connection), so its seeded draws
//    (active? faulty?) and its DNS name are the same whichever shard holds it;
//  - the open model's request schedule interleaves: stream s of S sends the requests due at
//    (s + kS)/rate, so the union of all streams is the whole run's schedule;
//  - source addresses go round-robin to shards and are never shared between them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace msb::cli {

struct Shard {
  int index = 0;
  int count = 1;
  std::string from = "none";  // "--shard", "JOB_COMPLETION_INDEX", "SLURM_PROCID", "none"
  bool sharded() const { return count > 1; }
};

// "I/N", 0 <= I < N. Throws std::invalid_argument saying what is wrong.
Shard parse_shard(const std::string& text);

// The shard a cluster engine gives this process, if any: a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX with MSBENCH_SHARD_COUNT (the Job's completions, which the pod does not
// see on its own: the manifest passes it), or Slurm's SLURM_PROCID with SLURM_NTASKS in a job
// step (srun; SLURM_STEP_ID set: the batch script's own environment names no step).
// Throws std::invalid_argument when a variable is there but malformed or its count is missing.
std::optional<Shard> shard_from_environment();

// Shard i's part of `total` split n ways, and where it starts: the parts add up to `total`.
std::int64_t share(std::int64_t total, int n, int i);
std::int64_t share_start(std::int64_t total, int n, int i);

// --start-at: RFC 3339 ("2026-12-02T16:00:00Z", "...+01:00", fractions allowed) or Unix
// seconds ("1796227200", "1796227200.5"). Returns Unix seconds; throws std::invalid_argument.
double parse_start_at(const std::string& text);

// A short digest of what makes two results the same scenario (resolved keys, what was swept,
// repetitions), the same in every shard.
std::string scenario_digest(const nlohmann::json& resolved_scenario);

// The run every shard belongs to: `given`, else MSBENCH_RUN_ID, else the Slurm job (and step),
// else derived from the scenario digest and the start time (--start-at, or this process's).
std::string run_id(const std::string& given, const std::string& digest, double start_at_unix_s,
                   double started_unix_s);

// The wall clock the synchronized start relies on: the kernel's clock source and whether the
// kernel considers it synchronized (adjtimex: NTP/PTP keeps it within its error bound).
nlohmann::json clock_facts();

// Wall-clock time now, in Unix seconds.
double unix_now();

}  // namespace msb::cli
