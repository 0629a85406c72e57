#include "worker.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "engine.h"
#include "fields_json.h"
#include "server_process.h"

namespace msb::cli {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::int64_t rss_kb() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t pages = 0, resident = 0;
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

// Opens as many descriptors as the share needs, or the few a fault scenario allows.
void set_fd_limit(const RunConfig& config, const WorkerPlan& plan) {
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
}

MultiOptions engine_options(const RunConfig& config, const WorkerPlan& plan,
                            const Workload& workload) {
  const auto sockindex = parse_sockindex(config.sockindex);
  const auto timers = parse_timer(config.timers);
  if (!sockindex || !timers) throw std::runtime_error("worker: unknown sockindex or timers");
  MultiOptions opt;
  opt.sockindex = *sockindex;
  opt.sockindex_buckets = config.buckets;
  opt.timers = *timers;
  opt.instrument = config.instrument;
  opt.dns_servers = workload.dns_server();
  opt.dns_timeout_ms = config.dns_timeout_ms;
  opt.dns_max_in_flight = config.dns_max_in_flight;
  if (config.local_ports > 0) {
    // A range of its own per worker, inside the default ephemeral range (32768-60999).
    opt.local_port_first = static_cast<std::uint16_t>(40000 + 1000 * (plan.index % 20));
    opt.local_port_last = static_cast<std::uint16_t>(opt.local_port_first + config.local_ports - 1);
  }
  return opt;
}

}  // namespace

Worker::Worker(const RunConfig& config, const WorkerPlan& plan, const std::atomic<bool>& stop,
               Report report)
    : config_(config),
      plan_(plan),
      stop_(stop),
      report_(std::move(report)),
      workload_(config, plan) {
  r_.config = config;
  r_.config.connections = plan.connections;  // this worker's share: shares add up on merge
  set_fd_limit(config, plan);
  backend_ = make_backend(config.backend);
  const MultiOptions opt = engine_options(config, plan, workload_);
  engine_ = make_engine(config.engine, *backend_, opt, opt.dns_servers);
  ids_.reserve(static_cast<std::size_t>(plan.connections));
}

Worker::~Worker() = default;

RunResult Worker::run() {
  run_start_ = last_report_ = last_sample_ = Clock::now();
  ramp_up();
  warm_up();
  measure();
  teardown();
  return std::move(r_);
}

void Worker::ramp_up() {
  r_.rss_before_kb = rss_kb();
  set_phase("ramp-up");
  const auto start = Clock::now();
  while (!stop_) {
    const auto due = static_cast<std::size_t>(
        std::min<double>(plan_.connections, plan_.connect_rate * seconds_since(start) + 1));
    // A bounded batch per iteration: when connect() itself turns slow (the kernel's port
    // search near a million sockets), stop requests and the ramp limit are still seen.
    const std::size_t batch_end = std::min(due, ids_.size() + 256);
    while (ids_.size() < batch_end) ids_.push_back(engine_->add(workload_.next(ids_.size())));
    backend_->run_once(10);
    drain();
    tick();
    if (ids_.size() == static_cast<std::size_t>(plan_.connections) &&
        engine_->sockets() + (ended_ok_ + ended_failed_) >= ids_.size()) {
      break;
    }
    if (seconds_since(start) > kRampCapS) break;
  }
  r_.added = ids_.size();
  r_.ramp_s = seconds_since(start);
  r_.rss_open_kb = rss_kb();
}

void Worker::warm_up() {
  set_phase("warm-up");
  run_for(config_.warmup_s);
}

void Worker::measure() {
  engine_->reset_timing_stats();
  last_hist_ = Histogram();
  const MultiStats engine_before = engine_->stats();
  r_.open_at_measure = engine_->sockets();
  loop_before_ = backend_->stats();
  double u0, s0;
  cpu_times(&u0, &s0);
  const auto start = Clock::now();
  set_phase("measuring");
  run_for(config_.duration_s);
  r_.measured_s = seconds_since(start);
  double u1, s1;
  cpu_times(&u1, &s1);
  r_.cpu_user_s = u1 - u0;
  r_.cpu_sys_s = s1 - s0;
  r_.engine = counters_since(engine_->stats(), engine_before);
  r_.loop = backend_->stats();
  subtract_measured(r_.loop, loop_before_, loop_fields());
  r_.interrupted = stop_;
}

void Worker::teardown() {
  set_phase("teardown");
  drain();
  for (std::uint64_t id : ids_) {
    if (engine_->remove(id)) ++r_.still_running;
  }
  engine_.reset();
}

void Worker::run_for(double seconds) {
  const auto start = Clock::now();
  while (!stop_ && seconds_since(start) < seconds) {
    // Nothing left to measure once every transfer has ended (a fault scenario's usual end).
    if (all_ended()) break;
    backend_->run_once(50);
    drain();
    tick();
  }
}

void Worker::drain() {
  while (auto ended = engine_->next_done()) {
    ++r_.ended_by_result[static_cast<std::size_t>(ended->result)];
    r_.time_to_end_ns[static_cast<int>(ended->result)].record(
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, ended->total_us)) * 1000);
    ++(ended->result == Result::ok ? ended_ok_ : ended_failed_);
  }
}

void Worker::tick() {
  const auto now = Clock::now();
  const bool sample_due = now - last_sample_ >= std::chrono::seconds(1);
  if (!sample_due && now - last_report_ < std::chrono::milliseconds(500)) return;
  const MultiStats s = engine_->stats();
  const Histogram& h = s.socket_action_socket_ns;
  const Histogram second = h.count() >= last_hist_.count() ? h.minus(last_hist_) : h;
  const std::uint64_t calls = s.socket_action_calls + s.perform_calls;
  Progress p{phase_,
             engine_->sockets(),
             calls,
             ended_ok_,
             ended_failed_,
             second.quantile(0.5) / 1000.0,
             second.quantile(0.99) / 1000.0};
  last_report_ = now;
  if (report_) report_(p);
  if (sample_due) {
    r_.series.push_back({seconds_since(run_start_), p.open, calls - last_calls_,
                         ended_ok_ - last_ok_, ended_failed_ - last_failed_, p.p50_us, p.p99_us});
    last_sample_ = now;
    last_calls_ = calls;
    last_ok_ = ended_ok_;
    last_failed_ = ended_failed_;
    last_hist_ = h;
  }
}

void Worker::set_phase(const char* name) {
  phase_ = name;
  last_report_ = Clock::time_point();  // report the new phase at once
  tick();
}

RunResult run_worker(const RunConfig& config, const WorkerPlan& plan, const std::atomic<bool>& stop,
                     const Worker::Report& report) {
  Worker worker(config, plan, stop, report);
  return worker.run();
}

}  // namespace msb::cli
