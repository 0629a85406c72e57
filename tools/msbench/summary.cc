#include "summary.h"

#include <fmt/core.h>

#include <algorithm>

namespace msb::cli {

namespace {

// Set when a table printed a percentile from fewer samples than it needs; the footnote says so.
bool g_few_samples = false;

// A percentile cell in us: "–" where there is nothing to show, a "*" where the samples are
// fewer than 1/(1-q) (p99.9 from 265 samples is the maximum of a few, not a p99.9).
std::string percentile_cell(const Histogram& h, double q) {
  if (h.count() == 0) return "–";
  const bool few = static_cast<double>(h.count()) < 1.0 / (1.0 - q) - 1e-9;
  g_few_samples = g_few_samples || few;
  return fmt::format("{:.2f}{}", double(h.quantile(q)) / 1000.0, few ? "*" : "");
}

// Right-aligned to `width` display columns ("–" is one column, three bytes).
std::string right(const std::string& s, std::size_t width) {
  const auto cols = static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
  return std::string(width > cols ? width - cols : 0, ' ') + s;
}

void histogram_row(std::FILE* out, const char* name, const Histogram& h) {
  fmt::print(out, "  {:<22} {:>10} {} {} {} {} {}\n", name, h.count(),
             right(percentile_cell(h, 0.5), 9), right(percentile_cell(h, 0.9), 9),
             right(percentile_cell(h, 0.99), 9), right(percentile_cell(h, 0.999), 9),
             right(h.count() ? fmt::format("{:.2f}", double(h.max()) / 1000.0) : "–", 10));
}

void few_samples_note(std::FILE* out) {
  if (!g_few_samples) return;
  fmt::print(out,
             "  * from fewer samples than the percentile needs (p90: 10, p99: 100, p99.9: "
             "1,000): read it as a maximum of a few\n");
  g_few_samples = false;
}

// "1,234,567": counts read at a glance.
std::string grouped(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string what_a_load_asks(const RunConfig& c) {
  std::string what;
  if (c.requests.size() > 1) {
    what = fmt::format("a mix of {} kinds of request", c.requests.size());
  } else if (c.builtin()) {
    what = fmt::format("{} {} on the built-in server", c.method,
                       c.requests.empty() ? c.path : "[[request]]");
  } else {
    what = fmt::format(
        "{} {}{}{}", c.method, c.targets.empty() ? c.target : c.targets[0], c.path,
        c.targets.size() > 1 ? fmt::format(" (and {} more targets)", c.targets.size() - 1) : "");
  }
  const int per = c.effective_requests_per_connection();
  const std::string connections = per == 0   ? "kept alive for the whole run"
                                  : per == 1 ? "one request each"
                                             : fmt::format("{} requests each", per);
  if (c.rate > 0) {
    return fmt::format("open model, {}/s, at most {} connections ({}); {}",
                       grouped(static_cast<std::uint64_t>(c.rate)), c.connections, connections,
                       what);
  }
  return fmt::format("closed model, {} connections ({}{}{}); {}", c.connections, connections,
                     c.pipeline > 1 ? fmt::format(", pipeline {}", c.pipeline) : "",
                     c.think_time_ms ? fmt::format(", think {} ms", c.think_time_ms) : "", what);
}

void print_load(const RunResult& r, std::FILE* out) {
  const RunConfig& c = r.config;
  fmt::print(out, "  requests      {} in the measured phase: {:.0f}/s, {:.2f} MiB/s of body\n",
             grouped(r.requests_measured), r.requests_per_s(), r.body_bytes_per_s() / (1 << 20));
  fmt::print(out, "                {} completed in the whole run, {} failed\n",
             grouped(r.requests_completed), grouped(r.requests_failed));
  std::string classes;
  for (const auto& [cls, n] : r.by_class()) classes += fmt::format("  {} {}", cls, grouped(n));
  fmt::print(out, "  status       {}\n", classes.empty() ? " none" : classes);
  if (c.rate > 0) {
    const double achieved = r.requests_per_s(), asked = r.rate_asked();
    fmt::print(out, "  rate          asked {:.0f}/s, achieved {:.0f}/s ({:.1f}%){}\n", asked,
               achieved, 100.0 * achieved / asked,
               // Behind by more than 10 ms' worth of requests: the client is not keeping up.
               static_cast<double>(r.requests_behind) > asked * 0.01
                   ? fmt::format("; {} requests were due and not yet sent at the end",
                                 grouped(r.requests_behind))
                   : "");
    if (achieved < 0.95 * asked) {
      fmt::print(
          out,
          "  !! the rate asked was not reached: latency counts from when each request was due\n");
    }
  }
  fmt::print(out, "\n  {:<22} {:>10} {:>9} {:>9} {:>9} {:>9} {:>10}\n", "latency (us)", "count",
             "p50", "p90", "p99", "p99.9", "max");
  histogram_row(out, c.rate > 0 ? "request (from due)" : "request", r.request_ns);
  if (c.rate > 0) histogram_row(out, "request (from sent)", r.request_uncorrected_ns);
  histogram_row(out, "first byte", r.first_byte_ns);
  if (r.connect_ns.count()) histogram_row(out, "connect", r.connect_ns);
  few_samples_note(out);
  fmt::print(out, "\n");
}

}  // namespace

void print_summary(const RunResult& r, std::FILE* out) {
  const RunConfig& c = r.config;
  const MultiStats& e = r.engine;
  const char* partial = r.interrupted ? "  [PARTIAL: interrupted]" : "";
  if (r.is_load()) {
    fmt::print(out, "\nmsbench run: {}\n  engine {}, backend {}, sockindex {}, timers {}{}\n",
               what_a_load_asks(c), c.engine, c.backend, c.sockindex, c.timers, partial);
    fmt::print(out,
               "  ramp-up {:.2f} s, measured {:.2f} s; {} connections opened, {} open when "
               "measuring began\n\n",
               r.ramp_s, r.measured_s, grouped(e.connections_opened), grouped(r.open_at_measure));
    print_load(r, out);
  } else {
    fmt::print(out,
               "\nmsbench run: {} connections ({:.1f}% active, {} B every {} ms), engine {}, "
               "backend {}, sockindex {}, timers {}{}\n",
               c.connections, c.active_fraction * 100, c.trickle_bytes, c.trickle_interval_ms,
               c.engine, c.backend, c.sockindex, c.timers, partial);
    fmt::print(out, "  ramp-up {:.2f} s, measured {:.2f} s with {} connections open\n\n", r.ramp_s,
               r.measured_s, r.open_at_measure);
  }
  if (r.ramp_s > 0.2 && r.connect_rate_achieved() < 0.9 * r.connect_rate_asked() &&
      static_cast<double>(c.connections) > r.connect_rate_asked() * 0.2) {
    fmt::print(out, "  !! connect rate asked {:.0f}/s, achieved {:.0f}/s\n\n",
               r.connect_rate_asked(), r.connect_rate_achieved());
  }
  fmt::print(out, "  {:<22} {:>10} {:>9} {:>9} {:>9} {:>9} {:>10}\n", "per call (us)", "calls",
             "p50", "p90", "p99", "p99.9", "max");
  if (c.backend == "perform") {
    histogram_row(out, "perform()", e.perform_ns);
  } else {
    histogram_row(out, "socket_action(socket)", e.socket_action_socket_ns);
    histogram_row(out, "socket_action(timer)", e.socket_action_timer_ns);
  }
  // The whole run's handshakes (most happen during ramp-up), beside the calls.
  if (e.tls_ns.count()) histogram_row(out, "TLS handshake", e.tls_ns);
  few_samples_note(out);
  if (e.tls_handshakes) {
    fmt::print(out, "  TLS: {} handshakes, {} resumed\n", grouped(e.tls_handshakes),
               grouped(e.tls_resumed));
  }

  const SockIndexStats& s = e.sockindex;
  fmt::print(out,
             "\n  socket index  {} : {} sockets in {} buckets, load {:.2f}, max chain {}, "
             "{:.2f} probes/lookup\n",
             s.variant, s.size, s.buckets, s.load_factor(), s.max_chain, s.probes_per_lookup());
  const TimerStats& t = e.timers;
  fmt::print(out, "  timers        {} : {} queued, {} ops", t.variant, t.size, t.ops());
  if (t.ops()) {
    fmt::print(out, ", {:.2f} rotations/op, {:.2f} steps/op", double(t.rotations) / double(t.ops()),
               double(t.steps) / double(t.ops()));
  }
  fmt::print(out, "\n");
  fmt::print(out, "  loop          {} : {} waits, {:.2f} events/wait, {} modifies, {} redundant\n",
             c.backend, r.loop.waits, r.loop.events_per_wait(), r.loop.modifies, r.loop.redundant);
  const double per_conn =
      r.added ? double(r.rss_open_kb - r.rss_before_kb) * 1024.0 / double(r.added) : 0;
  fmt::print(
      out,
      "  cpu           user {:.2f} s, sys {:.2f} s; RSS {} -> {} KiB ({:.0f} B per connection)\n",
      r.cpu_user_s, r.cpu_sys_s, r.rss_before_kb, r.rss_open_kb, per_conn);

  fmt::print(out, "\n  transfers: {} started = ", r.added);
  for (int i = 0; i < kResultCount; ++i) {
    if (r.ended_by_result[i]) {
      fmt::print(out, "{} {} + ", r.ended_by_result[i], result_name(static_cast<Result>(i)));
    }
  }
  fmt::print(out, "{} still running at the end  [{}]\n", r.still_running,
             r.accounting_holds() ? "accounted" : "ACCOUNTING MISMATCH");
  for (const auto& [reason, n] : r.failure_reasons) fmt::print(out, "  {:>8} {}\n", n, reason);
  for (const auto& [code, h] : r.time_to_end_ns) {
    if (code == static_cast<int>(Result::ok) || h.count() == 0) continue;
    fmt::print(out, "  {:<22} surfaced after {:.1f} ms (p50), {:.1f} ms (max)\n",
               result_name(static_cast<Result>(code)), double(h.quantile(0.5)) / 1e6,
               double(h.max()) / 1e6);
  }
}

}  // namespace msb::cli

namespace msb::cli {

void print_table(const std::vector<RunResult>& runs, std::FILE* out) {
  // One per-call column set: socket_action on a socket, or perform() for the perform backend
  // (the "call" column says which). "–" where a column does not apply.
  fmt::print(out,
             "\n{:>4} {:<8} {:<8} {:<10} {:>6} {:>8} {:>8} {:>8} {:<8} {:>10} {:>9} {:>9} {:>9} "
             "{:>7} {:>8}\n",
             "run", "engine", "backend", "sockindex", "bkts", "conns", "open", "workers", "call",
             "calls", "p50 us", "p99 us", "p99.9 us", "errors", "B/conn");
  int i = 0;
  for (const RunResult& r : runs) {
    const MultiStats& e = r.engine;
    const bool perform = r.config.backend == "perform";
    const Histogram& h = perform ? e.perform_ns : e.socket_action_socket_ns;
    std::uint64_t failed = 0;
    for (int k = 1; k < kResultCount; ++k) failed += r.ended_by_result[static_cast<std::size_t>(k)];
    const double per_conn =
        r.added ? double(r.rss_open_kb - r.rss_before_kb) * 1024.0 / double(r.added) : 0;
    const bool own_index = r.config.engine == "msbench";  // the others have none
    fmt::print(
        out, "{:>4} {:<8} {:<8} {:<10} {} {:>8} {:>8} {:>8} {:<8} {:>10} {} {} {} {:>7} {}{}\n",
        ++i, r.config.engine, r.config.backend, own_index ? r.config.sockindex : "–",
        right(own_index && r.config.sockindex == "chained" ? std::to_string(r.config.buckets) : "–",
              6),
        r.config.connections, r.open_at_measure, r.workers, perform ? "perform" : "socket",
        h.count(), right(percentile_cell(h, 0.5), 9), right(percentile_cell(h, 0.99), 9),
        right(percentile_cell(h, 0.999), 9), failed,
        right(r.added ? fmt::format("{:.0f}", per_conn) : "–", 8),
        r.accounting_holds() ? "" : "  ACCOUNTING MISMATCH");
  }
  few_samples_note(out);
}

}  // namespace msb::cli
