#include "run.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "server_process.h"

namespace msb::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

long rss_kb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

void cpu_times(double* user, double* sys) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  *user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  *sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

}  // namespace

bool RunResult::accounting_holds() const {
  std::uint64_t ended = 0;
  for (auto n : ended_by_result) ended += n;
  return added == ended + still_running;
}

RunResult run_against_builtin(const RunConfig& config, const std::atomic<bool>& stop,
                              bool progress) {
  RunResult r;
  r.config = config;
  const long limit = server::raise_fd_limit();
  if (config.connections + 64 > limit) {
    throw std::runtime_error("run: " + std::to_string(config.connections) +
                             " connections need more open files than this process may have (" +
                             std::to_string(limit) + "); use fewer per process");
  }
  const auto sockindex = parse_sockindex(config.sockindex);
  if (!sockindex) throw std::runtime_error("run: unknown sockindex '" + config.sockindex + "'");
  const auto timers = parse_timer(config.timers);
  if (!timers) throw std::runtime_error("run: unknown timers '" + config.timers + "'");

  server::ServerProcess server(server::ServerOptions{});
  auto loop = make_loop(config.backend);
  MultiOptions opt;
  opt.sockindex = *sockindex;
  opt.sockindex_buckets = config.buckets;
  opt.timers = *timers;
  opt.instrument = config.instrument;
  auto multi = loop->make_multi(opt);

  const auto& ep = server.endpoints()[0];
  const std::string active_url =
      ep.url("/trickle/1000000000000/" + std::to_string(config.trickle_interval_ms) + "/" +
             std::to_string(config.trickle_bytes));
  const std::string idle_url = ep.url("/idle");
  const int active = static_cast<int>(config.connections * config.active_fraction + 0.5);

  std::vector<TransferId> ids;
  ids.reserve(static_cast<std::size_t>(config.connections));
  r.ended_by_result.assign(kResultCount, 0);
  auto drain = [&] {
    while (auto d = multi->info_read()) ++r.ended_by_result[static_cast<int>(d->result)];
  };

  // On a terminal a live line; elsewhere one plain line per phase (logs, and tests that
  // wait for a phase).
  auto phase = [progress](const char* name, double seconds) {
    if (progress) {
      std::fprintf(stderr, "\r%s %.1f s%40s", name, seconds, "");
    } else {
      std::fprintf(stderr, "phase: %s\n", name);
    }
  };
  phase("ramp-up", 0);
  r.rss_before_kb = rss_kb();
  const auto ramp_start = Clock::now();
  auto last_print = Clock::now();
  // Ramp-up: add at the connect rate until every connection is open (or 60 s pass).
  while (!stop) {
    const auto due = static_cast<std::size_t>(
        std::min<double>(config.connections, config.connect_rate * seconds_since(ramp_start) + 1));
    while (ids.size() < due) {
      TransferSpec spec;
      spec.url = static_cast<int>(ids.size()) < active ? active_url : idle_url;
      auto added = multi->add(spec);
      if (!added) throw std::runtime_error("run: " + added.detail);
      ids.push_back(added.id);
    }
    loop->run_once(10);
    drain();
    const auto open = multi->stats().sockindex.size;
    if (progress && seconds_since(last_print) > 0.5) {
      std::fprintf(stderr, "\rramp-up: %zu added, %llu sockets open   ", ids.size(),
                   static_cast<unsigned long long>(open));
      last_print = Clock::now();
    }
    if (ids.size() == static_cast<std::size_t>(config.connections) && open >= ids.size()) break;
    if (seconds_since(ramp_start) > 60) break;
  }
  r.added = ids.size();
  r.ramp_s = seconds_since(ramp_start);
  r.rss_open_kb = rss_kb();

  const auto run_for = [&](double seconds) {
    const auto start = Clock::now();
    while (!stop && seconds_since(start) < seconds) {
      loop->run_once(50);
      drain();
    }
  };
  phase("warm-up", config.warmup_s);
  run_for(config.warmup_s);

  multi->reset_timing_stats();
  r.open_at_measure = multi->stats().sockindex.size;
  const LoopStats loop_before = loop->stats();
  double u0, s0;
  cpu_times(&u0, &s0);
  const auto measure_start = Clock::now();
  phase("measuring", config.duration_s);
  run_for(config.duration_s);
  r.measured_s = seconds_since(measure_start);
  double u1, s1;
  cpu_times(&u1, &s1);
  r.cpu_user_s = u1 - u0;
  r.cpu_sys_s = s1 - s0;
  r.engine = multi->stats();
  const LoopStats& l = loop->stats();
  r.loop.waits = l.waits - loop_before.waits;
  r.loop.events = l.events - loop_before.events;
  r.loop.timer_fires = l.timer_fires - loop_before.timer_fires;
  r.loop.modifies = l.modifies - loop_before.modifies;
  r.loop.redundant = l.redundant - loop_before.redundant;
  r.interrupted = stop;
  if (progress) {
    std::fprintf(stderr, "\r%60s\r", "");
  } else {
    std::fprintf(stderr, "phase: teardown\n");
  }

  // Teardown: what still runs when the duration ends is removed and counted as such.
  drain();
  for (TransferId id : ids) {
    if (multi->remove(id)) ++r.still_running;
  }
  multi.reset();
  server.stop();
  return r;
}

}  // namespace msb::cli
