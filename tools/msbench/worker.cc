#include "worker.h"

#include <malloc.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "engine.h"
#include "fields_json.h"
#include "msb/clock.h"
#include "server_process.h"
#include "shard.h"

namespace msb::cli {

namespace {

// At the end of a load, requests already sent get this long to be answered (nothing new
// goes out), so that every request of the run is either answered or failed.
constexpr double kDrainCapS = 10;

// The closed model's wakeup coalescing (Backend::set_coalescing): 20 us, about one response's
// turn at nginx on this machine; against nginx with 1,000 connections it raised requests/s
// from 40-41k to 49.5-50.7k while wrk did 42-49k, and nginx's CPU per request fell from
// 24.5 to 20 us (tools/bench-load.py, alternating).
constexpr std::int64_t kCoalesceNs = 20'000;

// After a failed request, a closed-model client waits this long before its next one, so
// that a server that refuses every connection is counted, not hammered in a spin.
constexpr std::int64_t kRetryPauseNs = 10'000'000;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::int64_t now_ns() {
  return Clock::real().now_ns();
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
  opt.tls.ca_file = plan.ca_file.empty() ? config.ca_file : plan.ca_file;
  opt.tls.verify_peer = !config.insecure;
  opt.tls.session_resumption = config.tls_resumption;
  // Every connection of a load may wait idle between its requests: all of them are kept.
  if (config.is_load()) {
    opt.max_cached_connections =
        std::max<std::size_t>(opt.max_cached_connections, plan.connections);
  }
  if (config.local_ports > 0) {
    // A range of its own per worker, inside the default ephemeral range (32768-60999).
    opt.local_port_first = static_cast<std::uint16_t>(40000 + 1000 * (plan.stream % 20));
    opt.local_port_last = static_cast<std::uint16_t>(opt.local_port_first + config.local_ports - 1);
  }
  return opt;
}

// A transfer's user pointer carries a number: a closed-model client, or the time an open-
// model request was due.
void* as_user(std::int64_t n) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(n));
}
std::int64_t from_user(void* p) {
  return static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(p));
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
  r_.run_id = plan.run_id;
  r_.share_of_run = 1.0 / plan.streams;
  r_.part = plan.index;
  r_.parts = plan.count;
  if (config.is_load()) {
    model_ = config.rate > 0        ? Model::open
             : workload_.one_kind() ? Model::closed_loops
                                    : Model::closed_requests;
  }
  set_fd_limit(config, plan);
  // A load waits for each request's due time: the kernel's default timer slack (50 us)
  // would add itself to every wait, and to the latency counted from when requests were due.
  if (model_ != Model::trickle) prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  backend_ = make_backend(config.backend);
  // The closed model trades a little latency for fewer wakeups (set_coalescing); the open
  // model counts latency exactly, and the trickle workload has too few events to gain.
  if (model_ == Model::closed_loops || model_ == Model::closed_requests) {
    backend_->set_coalescing(kCoalesceNs);
  }
  MultiOptions opt = engine_options(config, plan, workload_);
  if (model_ != Model::trickle) opt.response_fn = [this](const Response& r) { on_response(r); };
  engine_ = make_engine(config.engine, *backend_, opt, opt.dns_servers, config.libcurl);
  r_.engine_version = engine_->version();
  if (model_ == Model::trickle) ids_.reserve(static_cast<std::size_t>(plan.connections));
  client_started_.assign(static_cast<std::size_t>(plan.connections), false);
  client_ids_.assign(static_cast<std::size_t>(plan.connections), 0);
  if (plan.rate > 0)
    interval_ns_ = std::max<std::int64_t>(1, static_cast<std::int64_t>(1e9 / plan.rate));
}

Worker::~Worker() = default;

RunResult Worker::run() {
  if (plan_.start_at > 0) {
    // A synchronized start: every shard's workers begin ramp-up at the same wall-clock time.
    for (double left = plan_.start_at - unix_now(); !stop_ && left > 0;
         left = plan_.start_at - unix_now())
      usleep(static_cast<useconds_t>(std::min(50'000.0, left * 1e6)));
  }
  run_start_ = last_report_ = last_sample_ = Clock::now();
  ramp_up();
  warm_up();
  measure();
  teardown();
  return std::move(r_);
}

// ---------------------------------------------------------------- phases

void Worker::ramp_up() {
  // A worker is forked from the supervisor, whose heap holds earlier runs' freed results:
  // pages resident already, which would take this run's allocations without adding to its
  // RSS (per-connection memory read 58 B instead of 927 in idle-1m's third run). Returned
  // to the kernel first, so that what the connections allocate is counted.
  malloc_trim(0);
  r_.rss_before_kb = rss_kb();
  set_phase("ramp-up");
  const auto start = Clock::now();
  const auto target = static_cast<std::size_t>(plan_.connections);
  std::size_t started = 0;  // connections (trickle) or clients (closed) added so far
  while (!stop_ && model_ != Model::open) {
    const auto due = static_cast<std::size_t>(
        std::min<double>(plan_.connections, plan_.connect_rate * seconds_since(start) + 1));
    // A bounded batch per iteration: when connect() itself turns slow (the kernel's port
    // search near a million sockets), stop requests and the ramp limit are still seen.
    const std::size_t batch_end = std::min(due, started + 256);
    for (; started < batch_end; ++started) {
      if (model_ == Model::trickle) {
        ids_.push_back(add(workload_.next(started)));
      } else {
        add_client(started);
      }
    }
    step(10'000'000);
    if (started == target) {
      const bool all_open = model_ == Model::trickle
                                ? engine_->sockets() + (ended_ok_ + ended_failed_) >= ids_.size()
                                : clients_started_ >= target;
      if (all_open) break;
    }
    if (seconds_since(start) > kRampCapS) break;
  }
  r_.ramp_s = seconds_since(start);
}

void Worker::warm_up() {
  set_phase("warm-up");
  next_due_ns_ = now_ns() + static_cast<std::int64_t>(plan_.rate_offset_s * 1e9);
  // Synchronized: until the planned measuring time, whatever the ramp-up took.
  run_for(plan_.measure_at > 0 ? plan_.measure_at - unix_now() : config_.warmup_s);
  // After the warm-up, not at the end of the ramp: a connection counts as open once its
  // socket is, and over TLS hundreds may still be mid-handshake then, each holding both
  // record buffers and its key exchange (~40 kB).
  r_.rss_open_kb = rss_kb();
}

void Worker::measure() {
  close_phase();  // warm-up's last sample and summary, before its histograms are reset
  engine_->reset_timing_stats();
  last_hist_ = Histogram();
  const MultiStats engine_before = engine_->stats();
  r_.open_at_measure = engine_->sockets();
  loop_before_ = backend_->stats();
  double u0, s0;
  cpu_times(&u0, &s0);
  const auto start = Clock::now();
  r_.measure_start_first_s = r_.measure_start_last_s = unix_now();
  if (plan_.measure_at > 0)
    r_.start_late_s = std::max(0.0, r_.measure_start_first_s - plan_.measure_at);
  open_phase("measuring");
  measuring_ = true;
  run_for(config_.duration_s);
  measuring_ = false;
  r_.measured_s = seconds_since(start);
  double u1, s1;
  cpu_times(&u1, &s1);
  r_.cpu_user_s = u1 - u0;
  r_.cpu_sys_s = s1 - s0;
  r_.engine = counters_since(engine_->stats(), engine_before);
  r_.loop = backend_->stats();
  subtract_measured(r_.loop, loop_before_, loop_fields());
  if (model_ == Model::open && interval_ns_) {
    const std::int64_t late = now_ns() - next_due_ns_;
    r_.requests_behind = late >= 0 ? static_cast<std::uint64_t>(late / interval_ns_) + 1 : 0;
  }
  r_.interrupted = stop_;
}

void Worker::teardown() {
  set_phase("teardown");
  loading_ = false;
  drain();
  if (model_ == Model::trickle) {
    for (std::uint64_t id : ids_) {
      if (engine_->remove(id)) ++r_.still_running;
    }
  } else {
    // Load: a graceful drain. Loops stop after what they sent, single requests finish;
    // what is still running after kDrainCapS is dropped with the engine and counted so.
    if (model_ == Model::closed_loops) {
      for (std::uint64_t id : client_ids_) engine_->end_loop(id);
    }
    const auto start = Clock::now();
    while (!stop_ && engine_->running() > 0 && seconds_since(start) < kDrainCapS) step(10'000'000);
    drain();
    r_.still_running = engine_->running();
  }
  close_phase();
  engine_.reset();
}

void Worker::run_for(double seconds) {
  const auto start = Clock::now();
  for (double left = seconds; !stop_ && left > 0; left = seconds - seconds_since(start)) {
    // Nothing left to measure once every transfer has ended (a fault scenario's usual end).
    if (model_ == Model::trickle && all_ended()) break;
    // No wait past the phase's end: a synchronized start ends warm-up on time.
    step(std::min<std::int64_t>(50'000'000, static_cast<std::int64_t>(left * 1e9) + 1));
  }
}

void Worker::step(std::int64_t max_wait_ns) {
  backend_->run_once_ns(wait_ns(max_wait_ns));
  drain();
  if (loading_ && model_ != Model::trickle) {
    const std::int64_t now = now_ns();
    while (!restarts_.empty() && restarts_.top().first <= now) {
      const std::uint64_t client = restarts_.top().second;
      restarts_.pop();
      add_client(client);
    }
    if (model_ == Model::open) schedule();
  }
  tick();
}

// ---------------------------------------------------------------- load

std::uint64_t Worker::add(TransferSpec spec) {
  ++r_.added;
  return engine_->add(spec);
}

void Worker::add_client(std::uint64_t client) {
  TransferSpec spec = workload_.request();
  spec.user = as_user(static_cast<std::int64_t>(client));
  const int per_connection = config_.effective_requests_per_connection();
  if (model_ == Model::closed_loops) {
    // The client is a request loop on its own connection.
    spec.requests = static_cast<std::uint32_t>(per_connection);
    spec.pipeline = static_cast<std::uint32_t>(config_.pipeline);
    spec.think_time_ms = static_cast<std::uint32_t>(config_.think_time_ms);
    spec.reuse_connection = false;  // after its requests, the connection is done
  } else {
    // One request, on a kept-alive connection from the cache (or a new one each time).
    spec.reuse_connection = per_connection != 1;
  }
  const std::uint64_t id = add(std::move(spec));
  if (client < client_ids_.size()) client_ids_[client] = id;
}

void Worker::schedule() {
  const std::int64_t now = now_ns();
  while (next_due_ns_ <= now && in_flight_ < static_cast<std::uint64_t>(plan_.connections)) {
    TransferSpec spec = workload_.request();
    spec.user = as_user(next_due_ns_);
    spec.reuse_connection = config_.effective_requests_per_connection() != 1;
    add(std::move(spec));
    ++in_flight_;
    next_due_ns_ += interval_ns_;
  }
}

std::int64_t Worker::wait_ns(std::int64_t max_wait_ns) const {
  if (!loading_ || model_ == Model::trickle) return max_wait_ns;
  std::int64_t next = INT64_MAX;
  if (!restarts_.empty()) next = restarts_.top().first;
  // An open model that is behind waits for a connection to come free, not for the clock.
  if (model_ == Model::open && in_flight_ < static_cast<std::uint64_t>(plan_.connections)) {
    next = std::min(next, next_due_ns_);
  }
  if (next == INT64_MAX) return max_wait_ns;
  return std::clamp<std::int64_t>(next - now_ns(), 0, max_wait_ns);
}

void Worker::on_response(const Response& r) {
  ++responses_;
  std::int64_t from = r.sent_ns;
  if (model_ == Model::open) {
    from = from_user(r.user);
  } else {
    const auto client = static_cast<std::size_t>(from_user(r.user));
    if (client < client_started_.size() && !client_started_[client]) {
      client_started_[client] = true;
      ++clients_started_;
    }
  }
  const auto latency = static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.done_ns - from));
  requests_hist_.record(latency);
  ++r_.requests_completed;
  r_.response_body_bytes += r.body_bytes;
  ++r_.by_status[r.http_status];
  if (!measuring_) return;
  ++r_.requests_measured;
  r_.measured_body_bytes += r.body_bytes;
  r_.request_ns.record(latency);
  r_.first_byte_ns.record(
      static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.first_byte_ns - r.sent_ns)));
  if (model_ == Model::open) {
    r_.request_uncorrected_ns.record(
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.done_ns - r.start_ns)));
  }
  if (r.new_connection && r.connect_ns > 0)
    r_.connect_ns.record(static_cast<std::uint64_t>(r.connect_ns));
}

void Worker::on_done(const Done& d) {
  ++r_.ended_by_result[static_cast<std::size_t>(d.result)];
  if (d.result != Result::ok) count_reason(d);
  r_.time_to_end_ns[static_cast<int>(d.result)].record(
      static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.timings.total_us)) * 1000);
  ++(d.result == Result::ok ? ended_ok_ : ended_failed_);
  if (model_ == Model::trickle) return;
  if (d.result != Result::ok) ++r_.requests_failed;
  if (model_ == Model::open) {
    --in_flight_;
    return;
  }
  const auto client = static_cast<std::uint64_t>(from_user(d.user));
  if (client < client_started_.size() && !client_started_[client]) {
    client_started_[client] = true;
    ++clients_started_;
  }
  if (!loading_) return;
  // The client goes on: its next request (or loop) at once, after its think time (a mix:
  // the engine's loops think themselves), or after a pause if this one failed.
  std::int64_t pause = 0;
  if (d.result != Result::ok) {
    pause = kRetryPauseNs;
  } else if (model_ == Model::closed_requests) {
    pause = std::int64_t{config_.think_time_ms} * 1'000'000;
  }
  if (pause == 0) return add_client(client);
  restarts_.push({now_ns() + pause, client});
}

// What the engine says beside the code: OpenSSL's reason, the system error, the deadline.
void Worker::count_reason(const Done& d) {
  std::string why = tls_reason(d);
  if (why.empty() && d.os_error) why = std::strerror(d.os_error);
  if (why.empty() && d.expired != Expired::none)
    why = std::string(expired_name(d.expired)) + " deadline";
  if (why.empty()) return;
  std::string key = std::string(result_name(d.result)) + ": " + why;
  auto& reasons = r_.failure_reasons;
  if (reasons.size() >= RunResult::kMaxReasons && !reasons.count(key)) key = "(other reasons)";
  ++reasons[key];
}

void Worker::drain() {
  while (auto d = engine_->next_done()) on_done(*d);
}

// ---------------------------------------------------------------- progress

void Worker::tick() {
  const auto now = Clock::now();
  if (now - last_sample_ >= std::chrono::seconds(1)) take_sample(now);
  if (now - last_report_ >= std::chrono::milliseconds(500)) report_second();
}

namespace {
std::uint64_t calls_of(const MultiStats& s) {
  return s.socket_action_calls + s.perform_calls;
}
// After reset_timing_stats() a histogram starts again: what it holds is all since then.
Histogram since(const Histogram& now, const Histogram& then) {
  return now.count() >= then.count() ? now.minus(then) : now;
}
}  // namespace

const Histogram& Worker::per_call(const MultiStats& s) const {
  return config_.backend == "perform" ? s.perform_ns : s.socket_action_socket_ns;
}

// A sample shorter than this, at the end of a phase, joins the second before it.
constexpr double kShortestSampleS = 0.1;

void Worker::take_sample(Clock::time_point now) {
  const MultiStats s = engine_->stats();
  const Histogram& h = per_call(s);
  const Histogram second = since(h, last_hist_);
  const Histogram requests = requests_hist_.minus(last_requests_hist_);
  Sample sample;
  sample.phase = phase_;
  sample.t_s = seconds_since(run_start_);
  sample.dt_s = std::chrono::duration<double>(now - last_sample_).count();
  sample.open = engine_->sockets();
  sample.calls = calls_of(s) - last_calls_;
  sample.requests = responses_ - last_responses_;
  sample.ended_ok = ended_ok_ - last_ok_;
  sample.ended_failed = ended_failed_ - last_failed_;
  sample.p50_us = second.quantile(0.5) / 1000.0;
  sample.p99_us = second.quantile(0.99) / 1000.0;
  sample.request_p50_us = requests.quantile(0.5) / 1000.0;
  sample.request_p99_us = requests.quantile(0.99) / 1000.0;
  if (sample.dt_s < kShortestSampleS && !r_.series.empty() && r_.series.back().phase == phase_) {
    // The sliver a phase change leaves after a whole second joins that second: as a point
    // of its own its rates would be noise. (Its percentiles cannot be joined exactly: the
    // larger is kept, as merge does.)
    Sample& last = r_.series.back();
    const double dt = last.dt_s + sample.dt_s;
    merge_fields(last, sample, sample_fields());
    last.t_s = sample.t_s;
    last.dt_s = dt;
    last.open = sample.open;
  } else {
    r_.series.push_back(sample);
  }
  have_second_ = have_second_ || sample.dt_s >= 0.999;
  last_sample_ = now;
  last_calls_ = calls_of(s);
  last_ok_ = ended_ok_;
  last_failed_ = ended_failed_;
  last_responses_ = responses_;
  last_hist_ = h;
  last_requests_hist_ = requests_hist_;
}

void Worker::report_second() {
  last_report_ = Clock::now();
  if (!report_) return;
  Progress p;
  p.phase = phase_;
  p.open = engine_->sockets();
  p.ended_ok = ended_ok_;
  p.ended_failed = ended_failed_;
  if (have_second_) {
    const Sample& last = r_.series.back();
    p.window_s = last.dt_s;
    p.calls = last.calls;
    p.requests = last.requests;
    p.p50_us = last.p50_us;
    p.p99_us = last.p99_us;
    p.request_p50_us = last.request_p50_us;
    p.request_p99_us = last.request_p99_us;
  }
  report_(p);
}

void Worker::close_phase() {
  if (phase_.empty()) return;
  const auto now = Clock::now();
  if (now > last_sample_) take_sample(now);
  if (!report_) return;
  const MultiStats s = engine_->stats();
  const Histogram calls = since(per_call(s), phase_start_.calls_hist);
  const Histogram requests = requests_hist_.minus(phase_start_.requests_hist);
  Progress p;
  p.phase = phase_;
  p.ended = true;
  p.open = engine_->sockets();
  p.ended_ok = ended_ok_;
  p.ended_failed = ended_failed_;
  p.window_s = std::chrono::duration<double>(now - phase_start_.at).count();
  p.calls = calls_of(s) - phase_start_.calls;
  p.requests = responses_ - phase_start_.responses;
  p.p50_us = calls.quantile(0.5) / 1000.0;
  p.p99_us = calls.quantile(0.99) / 1000.0;
  p.request_p50_us = requests.quantile(0.5) / 1000.0;
  p.request_p99_us = requests.quantile(0.99) / 1000.0;
  report_(p);
}

void Worker::open_phase(const char* name) {
  phase_ = name;
  const MultiStats s = engine_->stats();
  phase_start_ = {Clock::now(), per_call(s), requests_hist_, calls_of(s), responses_};
  have_second_ = false;
  report_second();  // the new phase at once, with nothing to show yet
}

RunResult run_worker(const RunConfig& config, const WorkerPlan& plan, const std::atomic<bool>& stop,
                     const Worker::Report& report) {
  Worker worker(config, plan, stop, report);
  return worker.run();
}

}  // namespace msb::cli
