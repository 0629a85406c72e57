#include "worker.h"

#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>

#include "closed_port.h"
#include "dns_server.h"
#include "engine.h"
#include "faults.h"
#include "fields_json.h"
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

// The engine's counters over one phase: each `measured` row is `now` less what it was at
// the phase's start; levels, whole-run counts and the histograms (reset at the phase start)
// stay as they are.
MultiStats counters_since(MultiStats now, const MultiStats& start) {
  subtract_measured(now, start, multi_fields());
  subtract_measured(now.sockindex, start.sockindex, sockindex_fields());
  subtract_measured(now.timers, start.timers, timer_fields());
  return now;
}

constexpr double kRampCapS = 120;  // ramp-up ends after this even if connections are missing
constexpr std::size_t kNoreadPadding = 24 << 20;

// The path a builtin connection asks for: idle, a trickle, or the server's fault.
std::string path_for(const RunConfig& c, const server::Fault& fault, bool active, bool faulty) {
  if (faulty && fault.kind == server::FaultKind::server) return fault.path;
  if (active) {
    return "/trickle/1000000000000/" + std::to_string(c.trickle_interval_ms) + "/" +
           std::to_string(c.trickle_bytes);
  }
  return "/idle";
}

}  // namespace

RunResult run_worker(const RunConfig& config, const WorkerPlan& plan,
                     const std::atomic<bool>& stop,
                     const std::function<void(const Progress&)>& report) {
  RunResult r;
  r.config = config;
  r.config.connections = plan.connections;  // this worker's share: shares add up on merge
  const long limit = server::raise_fd_limit();
  if (config.fd_limit > 0) {
    // Fewer descriptors than connections on purpose: the transfers without one must end
    // socket_error (EMFILE) at once while the others run, and nothing may spin.
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, static_cast<rlim_t>(config.fd_limit));
    setrlimit(RLIMIT_NOFILE, &rl);
  } else if (plan.connections + 64 > limit) {
    throw std::runtime_error("worker: " + std::to_string(plan.connections) +
                             " connections need more open files than one process may have (" +
                             std::to_string(limit) + ")");
  }
  const auto sockindex = parse_sockindex(config.sockindex);
  const auto timers = parse_timer(config.timers);
  if (!sockindex || !timers) throw std::runtime_error("worker: unknown sockindex or timers");

  auto loop = make_backend(config.backend);
  MultiOptions opt;
  opt.sockindex = *sockindex;
  opt.sockindex_buckets = config.buckets;
  opt.timers = *timers;
  opt.instrument = config.instrument;
  opt.dns_servers = plan.dns_server;
  opt.dns_timeout_ms = config.dns_timeout_ms;
  opt.dns_max_in_flight = config.dns_max_in_flight;
  // Faults the worker makes itself: a port that refuses (bound, never listening), and a
  // DNS server that never answers.
  const server::Fault* fault = server::find_fault(config.fault);
  if (!fault) throw std::runtime_error("worker: unknown fault '" + config.fault + "'");
  using server::FaultKind;
  std::unique_ptr<server::ClosedPort> refusing;
  if (fault->kind == FaultKind::refused) refusing = std::make_unique<server::ClosedPort>();
  std::unique_ptr<server::SilentDns> silent_dns;
  if (fault->kind == FaultKind::dns_silent) {
    if (config.fault_fraction < 1.0) {
      throw std::runtime_error("fault dns_silent mutes the one DNS server: it needs fault_fraction = 1");
    }
    silent_dns = std::make_unique<server::SilentDns>();
    opt.dns_servers = silent_dns->server();
  }
  if (config.local_ports > 0) {
    // A range of its own per worker, inside the default ephemeral range (32768-60999).
    opt.local_port_first = static_cast<std::uint16_t>(40000 + 1000 * (plan.index % 20));
    opt.local_port_last = static_cast<std::uint16_t>(opt.local_port_first + config.local_ports - 1);
  }
  auto engine = make_engine(config.engine, *loop, opt, opt.dns_servers);

  // Which connections are active or faulty: a seeded choice, the same for every run of
  // this seed. Each worker draws from its own stream.
  std::mt19937_64 rng(config.seed * 1000003u + static_cast<std::uint64_t>(plan.index));
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  const bool builtin = config.target == "builtin";
  auto next_url = [&](std::size_t i) {
    if (!builtin) return config.target;
    const bool faulty = fault->kind != FaultKind::none && coin(rng) < config.fault_fraction;
    const bool active = !faulty && coin(rng) < config.active_fraction;
    if (faulty && refusing) return "http://127.0.0.1:" + std::to_string(refusing->port()) + "/";
    if (faulty && (fault->kind == FaultKind::dns_nxdomain || fault->kind == FaultKind::dns_refused ||
                   fault->kind == FaultKind::dns_silent)) {
      // NXDOMAIN: a name in the DNS server's own domain that it does not have; REFUSED: a
      // name outside it (it forwards nowhere); silence: all lookups go to a mute server.
      const int port = plan.ports_by_address[0][0];
      const std::string name = fault->kind == FaultKind::dns_nxdomain  ? "missing" + std::to_string(i) + ".msb.test"
                               : fault->kind == FaultKind::dns_refused ? "n" + std::to_string(i) + ".elsewhere.example"
                                                                       : "n0.msb.test";
      return "http://" + name + ":" + std::to_string(port) + "/idle";
    }
    if (config.names > 0) {
      // Names spread over all workers; name k lives at address k % addresses.
      const std::size_t k = (i * static_cast<std::size_t>(plan.count) + static_cast<std::size_t>(plan.index)) %
                            static_cast<std::size_t>(config.names);
      const auto& ports = plan.ports_by_address[k % plan.ports_by_address.size()];
      const int port = ports[(i / plan.ports_by_address.size()) % ports.size()];
      return "http://n" + std::to_string(k) + ".msb.test:" + std::to_string(port) +
             path_for(config, *fault, active, faulty);
    }
    return plan.bases[i % plan.bases.size()] + path_for(config, *fault, active, faulty);
  };

  std::vector<std::uint64_t> ids;
  ids.reserve(static_cast<std::size_t>(plan.connections));
  std::uint64_t ended_ok = 0, ended_failed = 0;
  auto drain = [&] {
    while (auto ended = engine->next_done()) {
      ++r.ended_by_result[static_cast<int>(ended->result)];
      r.time_to_end_ns[static_cast<int>(ended->result)].record(
          static_cast<std::uint64_t>(std::max<std::int64_t>(0, ended->total_us)) * 1000);
      ++(ended->result == Result::ok ? ended_ok : ended_failed);
    }
  };

  // Progress and the 1 s time series read the same cumulative histogram: the difference
  // from the last sample is the last second.
  const auto run_start = Clock::now();
  std::string phase = "ramp-up";
  Histogram last_hist;
  std::uint64_t last_calls = 0, last_ok = 0, last_failed = 0;
  auto last_report = Clock::now();
  auto last_sample = Clock::now();
  auto tick = [&] {
    const auto now = Clock::now();
    const bool sample_due = now - last_sample >= std::chrono::seconds(1);
    if (!sample_due && now - last_report < std::chrono::milliseconds(500)) return;
    const MultiStats s = engine->stats();
    const Histogram& h = s.socket_action_socket_ns;
    const Histogram second = h.count() >= last_hist.count() ? h.minus(last_hist) : h;
    const std::uint64_t calls = s.socket_action_calls + s.perform_calls;
    Progress p{phase, engine->sockets(), calls, ended_ok, ended_failed,
               second.quantile(0.5) / 1000.0, second.quantile(0.99) / 1000.0};
    last_report = now;
    if (report) report(p);
    if (sample_due) {
      r.series.push_back({seconds_since(run_start), p.open, calls - last_calls, ended_ok - last_ok,
                          ended_failed - last_failed, p.p50_us, p.p99_us});
      last_sample = now;
      last_calls = calls;
      last_ok = ended_ok;
      last_failed = ended_failed;
      last_hist = h;
    }
  };
  auto set_phase = [&](const char* name) {
    phase = name;
    last_report = Clock::time_point();  // report the new phase at once
    tick();
  };

  const std::uint32_t total_timeout_ms =
      config.total_timeout_ms
          ? config.total_timeout_ms
          : static_cast<std::uint32_t>((kRampCapS + config.warmup_s + config.duration_s + 60) * 1000);
  r.rss_before_kb = rss_kb();
  set_phase("ramp-up");
  const auto ramp_start = Clock::now();
  // Ramp-up: add at the connect rate until every connection is open (or 120 s pass).
  while (!stop) {
    const auto due = static_cast<std::size_t>(std::min<double>(
        plan.connections, plan.connect_rate * seconds_since(ramp_start) + 1));
    // A bounded batch per iteration: when connect() itself turns slow (the kernel's port
    // search near a million sockets), stop requests and the ramp limit are still seen.
    const std::size_t batch_end = std::min(due, ids.size() + 256);
    while (ids.size() < batch_end) {
      TransferSpec spec;
      spec.url = next_url(ids.size());
      spec.total_timeout_ms = total_timeout_ms;
      spec.connect_timeout_ms = config.connect_timeout_ms;
      spec.low_speed_limit = config.low_speed_limit;
      spec.low_speed_time_ms = config.low_speed_time_ms;
      if (spec.url.find("/fault/noread") != std::string::npos) {
        // Larger than loopback's socket buffers on both sides, so the send blocks.
        spec.headers.push_back("X-Padding: " + std::string(kNoreadPadding, 'p'));
      }
      ids.push_back(engine->add(spec));
    }
    loop->run_once(10);
    drain();
    tick();
    if (ids.size() == static_cast<std::size_t>(plan.connections) &&
        engine->sockets() + (ended_ok + ended_failed) >= ids.size()) {
      break;
    }
    if (seconds_since(ramp_start) > kRampCapS) break;
  }
  r.added = ids.size();
  r.ramp_s = seconds_since(ramp_start);
  r.rss_open_kb = rss_kb();

  const auto run_for = [&](double seconds) {
    const auto start = Clock::now();
    while (!stop && seconds_since(start) < seconds) {
      // Nothing left to measure once every transfer has ended (a fault scenario's usual end).
      if (ended_ok + ended_failed >= ids.size()) break;
      loop->run_once(50);
      drain();
      tick();
    }
  };
  set_phase("warm-up");
  run_for(config.warmup_s);

  engine->reset_timing_stats();
  last_hist = Histogram();
  const MultiStats engine_before = engine->stats();
  r.open_at_measure = engine->sockets();
  const LoopStats loop_before = loop->stats();
  double u0, s0;
  cpu_times(&u0, &s0);
  const auto measure_start = Clock::now();
  set_phase("measuring");
  run_for(config.duration_s);
  r.measured_s = seconds_since(measure_start);
  double u1, s1;
  cpu_times(&u1, &s1);
  r.cpu_user_s = u1 - u0;
  r.cpu_sys_s = s1 - s0;
  r.engine = counters_since(engine->stats(), engine_before);
  r.loop = loop->stats();
  subtract_measured(r.loop, loop_before, loop_fields());
  r.interrupted = stop;
  set_phase("teardown");

  // Teardown: what still runs when the duration ends is removed and counted as such.
  drain();
  for (std::uint64_t id : ids) {
    if (engine->remove(id)) ++r.still_running;
  }
  engine.reset();
  return r;
}

}  // namespace msb::cli
