// What the terminal shows while a run goes on. On a TTY one live line, rewritten in place and
// cleared to the end of the line (no residue), cut to the terminal's width: phase,
// connections open, and the figures of each worker's last complete second of this phase
// (labelled "last 1 s"; "…" until the phase has one, never a 0.0 frame). Off a TTY, for
// logs: one line as each phase ends, with that phase's own figures, and a "last 1 s" line
// every 5 s of a long phase.
#pragma once

#include <chrono>
#include <cstdio>
#include <istream>
#include <string>
#include <vector>

#include "worker.h"

namespace msb::cli {

// A worker's progress travels to the runner as one text line: "P phase ended window_s open
// ok failed calls requests p50 p99 request_p50 request_p99". (Results travel as a JSON file.)
std::string format_progress(const Progress& p);
Progress parse_progress(std::istream& fields);  // the fields after "P"

// The label, then the parts (most important first), joined with " | " in at most `width`
// columns: the label is shortened first ("…"), then dropped with the trailing parts. Exposed
// for its test.
std::string fit_line(const std::string& label, const std::vector<std::string>& parts,
                     std::size_t width);

class ProgressView {
 public:
  ProgressView(std::FILE* out, bool tty, std::string label, int target, int workers);
  void update(int worker, const Progress& p);
  // Renders if due (or `force`); clears the live line at the end.
  void render(bool force = false);
  void finish();

 private:
  std::string phase() const;  // the earliest phase any worker is in
  // The parts of a line after the label, from every worker's record (of one window kind).
  std::vector<std::string> parts(const std::string& phase, const std::vector<Progress>& records,
                                 bool whole_phase) const;
  std::size_t width() const;
  std::FILE* out_;
  bool tty_;
  std::string label_;
  int target_;
  std::vector<Progress> workers_;  // each worker's latest report
  // Each worker's summary of each phase it ended, by phase rank: a fast worker may end the
  // next phase before a slow one ends this.
  std::vector<std::vector<Progress>> ended_;
  std::string last_phase_;
  std::chrono::steady_clock::time_point last_render_, last_line_;
};

}  // namespace msb::cli
