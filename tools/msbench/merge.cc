#include "merge.h"

#include <algorithm>
#include <stdexcept>

namespace msb::cli {

namespace {

void add_vectors(std::vector<std::uint64_t>& into, const std::vector<std::uint64_t>& from) {
  if (into.size() < from.size()) into.resize(from.size(), 0);
  for (std::size_t i = 0; i < from.size(); ++i) into[i] += from[i];
}

void merge_engine(MultiStats& m, const MultiStats& e) {
  m.socket_action_socket_ns.merge(e.socket_action_socket_ns);
  m.socket_action_timer_ns.merge(e.socket_action_timer_ns);
  m.perform_ns.merge(e.perform_ns);
  m.resolve_ns.merge(e.resolve_ns);
  m.socket_action_calls += e.socket_action_calls;
  m.perform_calls += e.perform_calls;
  m.socket_callbacks += e.socket_callbacks;
  m.timer_callbacks += e.timer_callbacks;
  m.transfers_added += e.transfers_added;
  m.transfers_done += e.transfers_done;
  m.transfers_removed += e.transfers_removed;
  add_vectors(m.by_result, e.by_result);
  m.connections_opened += e.connections_opened;
  m.connections_reused += e.connections_reused;
  m.dns_lookups += e.dns_lookups;
  m.dns_joined += e.dns_joined;
  m.dns_cache_hits += e.dns_cache_hits;
  m.dns_failures += e.dns_failures;
  m.max_socket_waiters = std::max(m.max_socket_waiters, e.max_socket_waiters);
  m.running += e.running;

  SockIndexStats& s = m.sockindex;
  s.size += e.sockindex.size;
  s.buckets += e.sockindex.buckets;
  add_vectors(s.occupancy, e.sockindex.occupancy);
  s.max_chain = std::max(s.max_chain, e.sockindex.max_chain);
  s.lookups += e.sockindex.lookups;
  s.probes += e.sockindex.probes;
  s.resizes += e.sockindex.resizes;
  s.load_factor = s.buckets ? double(s.size) / double(s.buckets) : 0;
  const std::uint64_t nonempty = s.occupancy.empty() ? 0 : s.buckets - s.occupancy[0];
  s.mean_chain = nonempty ? double(s.size) / double(nonempty) : 0;

  TimerStats& t = m.timers;
  t.size += e.timers.size;
  t.inserts += e.timers.inserts;
  t.removes += e.timers.removes;
  t.pops += e.timers.pops;
  t.rotations += e.timers.rotations;
  t.steps += e.timers.steps;
}

}  // namespace

RunResult merge_runs(const std::vector<RunResult>& parts, bool keep_parts) {
  if (parts.empty()) throw std::invalid_argument("merge_runs: nothing to merge");
  RunResult m = parts[0];
  m.per_worker.clear();
  m.workers = 0;
  m.engine = MultiStats();
  m.engine.sockindex.variant = parts[0].engine.sockindex.variant;
  m.engine.timers.variant = parts[0].engine.timers.variant;
  m.loop = LoopStats();
  m.added = m.open_at_measure = m.still_running = 0;
  m.ended_by_result.assign(parts[0].ended_by_result.size(), 0);
  m.time_to_end_ns.clear();
  m.ramp_s = m.measured_s = m.cpu_user_s = m.cpu_sys_s = 0;
  m.rss_before_kb = m.rss_open_kb = 0;
  m.interrupted = false;
  m.series.clear();
  for (const RunResult& p : parts) {
    if (p.config.backend != m.config.backend || p.config.sockindex != m.config.sockindex ||
        p.config.engine != m.config.engine) {
      throw std::invalid_argument("merge: results of different runs (engine, backend or sockindex differ)");
    }
    m.workers += p.workers;
    merge_engine(m.engine, p.engine);
    m.loop.waits += p.loop.waits;
    m.loop.events += p.loop.events;
    m.loop.timer_fires += p.loop.timer_fires;
    m.loop.modifies += p.loop.modifies;
    m.loop.redundant += p.loop.redundant;
    m.added += p.added;
    m.open_at_measure += p.open_at_measure;
    m.still_running += p.still_running;
    add_vectors(m.ended_by_result, p.ended_by_result);
    for (const auto& [code, h] : p.time_to_end_ns) m.time_to_end_ns[code].merge(h);
    m.ramp_s = std::max(m.ramp_s, p.ramp_s);
    m.measured_s = std::max(m.measured_s, p.measured_s);
    m.cpu_user_s += p.cpu_user_s;
    m.cpu_sys_s += p.cpu_sys_s;
    m.rss_before_kb += p.rss_before_kb;
    m.rss_open_kb += p.rss_open_kb;
    m.interrupted = m.interrupted || p.interrupted;
    // Second by second: counts add; percentiles cannot, so the worst worker's stand.
    if (m.series.size() < p.series.size()) m.series.resize(p.series.size());
    for (std::size_t i = 0; i < p.series.size(); ++i) {
      Sample& s = m.series[i];
      const Sample& q = p.series[i];
      s.t_s = std::max(s.t_s, q.t_s);
      s.open += q.open;
      s.calls += q.calls;
      s.ended_ok += q.ended_ok;
      s.ended_failed += q.ended_failed;
      s.p50_us = std::max(s.p50_us, q.p50_us);
      s.p99_us = std::max(s.p99_us, q.p99_us);
    }
    if (keep_parts) {
      if (p.per_worker.empty()) {
        m.per_worker.push_back(p);
      } else {
        for (const RunResult& w : p.per_worker) m.per_worker.push_back(w);
      }
    }
  }
  m.config.connections = 0;
  for (const RunResult& p : parts) m.config.connections += p.config.connections;
  return m;
}

}  // namespace msb::cli
