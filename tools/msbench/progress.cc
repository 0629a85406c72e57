#include "progress.h"

#include <fmt/core.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace msb::cli {

namespace {
const char* const kPhases[] = {"ramp-up", "warm-up", "measuring", "teardown"};
int phase_rank(const std::string& p) {
  for (int i = 0; i < 4; ++i) {
    if (p == kPhases[i]) return i;
  }
  return -1;  // not reported yet
}

// Display columns of UTF-8 text: bytes that do not continue a character.
std::size_t columns(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// The longest prefix of `s` that takes at most `n` columns.
std::string cut(const std::string& s, std::size_t n) {
  std::size_t cols = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((s[i] & 0xC0) != 0x80 && cols++ == n) break;
  }
  return s.substr(0, i);
}

std::string rate(double n) {
  return n >= 1e6   ? fmt::format("{:.2f}M", n / 1e6)
         : n >= 1e4 ? fmt::format("{:.1f}k", n / 1e3)
                    : fmt::format("{:.0f}", n);
}
}  // namespace

std::string format_progress(const Progress& p) {
  return fmt::format("P {} {} {} {} {} {} {} {} {} {} {} {}\n", p.phase, p.ended ? 1 : 0,
                     p.window_s, p.open, p.ended_ok, p.ended_failed, p.calls, p.requests, p.p50_us,
                     p.p99_us, p.request_p50_us, p.request_p99_us);
}

Progress parse_progress(std::istream& fields) {
  Progress p;
  int ended = 0;
  fields >> p.phase >> ended >> p.window_s >> p.open >> p.ended_ok >> p.ended_failed >> p.calls >>
      p.requests >> p.p50_us >> p.p99_us >> p.request_p50_us >> p.request_p99_us;
  p.ended = ended != 0;
  return p;
}

std::string fit_line(const std::string& label, const std::vector<std::string>& parts,
                     std::size_t width) {
  std::string rest;
  for (const auto& part : parts) rest += (rest.empty() ? "" : " | ") + part;
  if (columns(label) + 3 + columns(rest) <= width) return label + " | " + rest;
  // The label gives way first: the figures are what the line is for.
  const std::size_t room = width > columns(rest) + 3 ? width - columns(rest) - 3 : 0;
  if (room >= 12) return cut(label, room - 1) + "…" + " | " + rest;
  std::size_t keep = parts.size();
  while (keep > 1) {
    rest.clear();
    for (std::size_t i = 0; i < keep; ++i) rest += (i ? " | " : "") + parts[i];
    if (columns(rest) <= width) break;
    --keep;
  }
  return cut(rest, width);
}

ProgressView::ProgressView(std::FILE* out, bool tty, std::string label, int target, int workers)
    : out_(out),
      tty_(tty),
      label_(std::move(label)),
      target_(target),
      workers_(static_cast<std::size_t>(workers)),
      ended_(4, std::vector<Progress>(static_cast<std::size_t>(workers))) {
  last_render_ = last_line_ = std::chrono::steady_clock::now();
}

void ProgressView::update(int worker, const Progress& p) {
  const auto w = static_cast<std::size_t>(worker);
  if (!p.ended) {
    workers_[w] = p;
    return;
  }
  const int rank = phase_rank(p.phase);
  if (rank < 0) return;
  auto& phase = ended_[static_cast<std::size_t>(rank)];
  phase[w] = p;
  // Off a TTY, a phase's line once every worker has ended it.
  const bool all =
      std::all_of(phase.begin(), phase.end(), [](const Progress& e) { return e.ended; });
  if (all && !tty_) {
    fmt::print(out_, "{}\n", fit_line(label_, parts(p.phase, phase, true), 400));
    std::fflush(out_);
    last_line_ = std::chrono::steady_clock::now();
  }
}

std::string ProgressView::phase() const {
  int rank = 99;
  for (const auto& w : workers_) rank = std::min(rank, phase_rank(w.phase));
  return rank < 0 ? "starting" : kPhases[std::min(rank, 3)];
}

std::vector<std::string> ProgressView::parts(const std::string& phase,
                                             const std::vector<Progress>& records,
                                             bool whole_phase) const {
  std::uint64_t open = 0, errors = 0, calls = 0, requests = 0;
  double window = 0, p50 = 0, p99 = 0, rp50 = 0, rp99 = 0;
  bool complete = true;
  for (const auto& w : records) {
    open += w.open;
    errors += w.ended_failed;
    complete = complete && w.window_s > 0 && w.phase == phase;
    calls += w.calls;
    requests += w.requests;
    window = std::max(window, w.window_s);
    p50 = std::max(p50, w.p50_us);
    p99 = std::max(p99, w.p99_us);
    rp50 = std::max(rp50, w.request_p50_us);
    rp99 = std::max(rp99, w.request_p99_us);
  }
  std::vector<std::string> out = {
      whole_phase ? fmt::format("{} {:.1f} s", phase, window) : fmt::format("{:<9}", phase),
      fmt::format("open {}/{}", open, target_)};
  // Errors are short and matter: they come before the figures when there are any, and are
  // the first part a narrow terminal drops when there are none.
  if (errors > 0) out.push_back(fmt::format("errors {}", errors));
  const char* window_name = whole_phase ? "whole phase" : "last 1 s";
  if (!complete) {
    out.push_back(fmt::format("{}: …", window_name));
  } else if (calls == 0) {
    out.push_back(fmt::format("{}: no calls", window_name));
  } else {
    // Each worker's figures are of its own window; the sums are rates per second, the
    // percentiles the worst worker's (percentiles cannot be added).
    const double per_s = 1.0 / window;
    out.push_back(fmt::format("{}: {} calls/s", window_name, rate(double(calls) * per_s)));
    out.push_back(fmt::format("p50 {:.1f} p99 {:.1f} us{}", p50, p99,
                              whole_phase && records.size() > 1 ? " (worst worker)" : ""));
    if (requests > 0)
      out.push_back(fmt::format("{} req/s, request p50 {:.0f} p99 {:.0f} us",
                                rate(double(requests) * per_s), rp50, rp99));
  }
  if (errors == 0) out.push_back("errors 0");
  return out;
}

std::size_t ProgressView::width() const {
  winsize ws{};
  if (ioctl(fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) > 0)
    return static_cast<std::size_t>(std::atoi(c));
  return 80;
}

void ProgressView::render(bool force) {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - last_render_).count();
  const std::string ph = phase();
  const bool changed = ph != last_phase_;
  if (!force && !changed && dt < 0.5) return;
  if (tty_) {
    // The last column stays free: writing into it makes some terminals wrap at once.
    fmt::print(out_, "\r{}\x1b[K", fit_line(label_, parts(ph, workers_, false), width() - 1));
    std::fflush(out_);
  } else if (!changed && std::chrono::duration<double>(now - last_line_).count() >= 5) {
    fmt::print(out_, "{}\n", fit_line(label_, parts(ph, workers_, false), 400));
    std::fflush(out_);
    last_line_ = now;
  }
  if (changed) last_line_ = now;
  last_phase_ = ph;
  last_render_ = now;
}

void ProgressView::finish() {
  render(true);
  if (tty_) fmt::print(out_, "\r\x1b[K");
  std::fflush(out_);
}

}  // namespace msb::cli
