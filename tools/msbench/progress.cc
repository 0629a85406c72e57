#include "progress.h"

#include <fmt/core.h>

#include <algorithm>

namespace msb::cli {

namespace {
const char* const kPhases[] = {"ramp-up", "warm-up", "measuring", "teardown"};
int phase_rank(const std::string& p) {
  for (int i = 0; i < 4; ++i) {
    if (p == kPhases[i]) return i;
  }
  return -1;  // not reported yet
}
}  // namespace

std::string format_progress(const Progress& p) {
  return fmt::format("P {} {} {} {} {} {} {} {} {} {}\n", p.phase, p.open, p.calls, p.ended_ok,
                     p.ended_failed, p.p50_us, p.p99_us, p.requests, p.request_p50_us,
                     p.request_p99_us);
}

Progress parse_progress(std::istream& fields) {
  Progress p;
  fields >> p.phase >> p.open >> p.calls >> p.ended_ok >> p.ended_failed >> p.p50_us >> p.p99_us >>
      p.requests >> p.request_p50_us >> p.request_p99_us;
  return p;
}

ProgressView::ProgressView(std::FILE* out, bool tty, std::string label, int target, int workers)
    : out_(out),
      tty_(tty),
      label_(std::move(label)),
      target_(target),
      workers_(static_cast<std::size_t>(workers)) {
  last_render_ = last_line_ = std::chrono::steady_clock::now();
}

void ProgressView::update(int worker, const Progress& p) {
  workers_[static_cast<std::size_t>(worker)] = p;
}

std::string ProgressView::phase() const {
  int rank = 99;
  for (const auto& w : workers_) rank = std::min(rank, phase_rank(w.phase));
  return rank < 0 ? "starting" : kPhases[std::min(rank, 3)];
}

void ProgressView::render(bool force) {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - last_render_).count();
  const std::string ph = phase();
  const bool changed = ph != last_phase_;
  if (!force && !changed && dt < 0.5) return;
  std::uint64_t open = 0, calls = 0, errors = 0, requests = 0;
  double p50 = 0, p99 = 0, rp50 = 0, rp99 = 0;
  for (const auto& w : workers_) {
    open += w.open;
    calls += w.calls;
    errors += w.ended_failed;
    requests += w.requests;
    p50 = std::max(p50, w.p50_us);
    p99 = std::max(p99, w.p99_us);
    rp50 = std::max(rp50, w.request_p50_us);
    rp99 = std::max(rp99, w.request_p99_us);
  }
  const double rate = dt > 0 && calls >= last_calls_ ? double(calls - last_calls_) / dt : 0;
  std::string line = fmt::format(
      "{} | {:<9} | open {}/{} | {:.0f} calls/s | p50 {:.1f} us p99 {:.1f} us | errors {}", label_,
      ph, open, target_, rate, p50, p99, errors);
  if (requests > 0) {
    const double rps =
        dt > 0 && requests >= last_requests_ ? double(requests - last_requests_) / dt : 0;
    line += fmt::format(" | {:.0f} req/s, request p50 {:.0f} us p99 {:.0f} us", rps, rp50, rp99);
  }
  last_requests_ = requests;
  if (tty_) {
    fmt::print(out_, "\r{:<120}", line);
    std::fflush(out_);
  } else if (changed || std::chrono::duration<double>(now - last_line_).count() >= 5 || force) {
    fmt::print(out_, "{}\n", line);
    last_line_ = now;
  }
  last_phase_ = ph;
  last_calls_ = calls;
  last_render_ = now;
}

void ProgressView::finish() {
  render(true);
  if (tty_) fmt::print(out_, "\r{:<120}\r", "");
}

}  // namespace msb::cli
