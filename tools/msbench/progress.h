// What the terminal shows while a run goes on: on a TTY one live line (phase, connections
// open/target, calls/s, p50/p99, errors), rewritten in place; otherwise a plain line at
// each phase change and every 5 s, for logs.
#pragma once

#include <chrono>
#include <cstdio>
#include <istream>
#include <string>
#include <vector>

#include "worker.h"

namespace msb::cli {

// A worker's progress travels to the runner as one text line: "P phase open calls ok
// failed p50 p99". (Results travel as a JSON file.)
std::string format_progress(const Progress& p);
Progress parse_progress(std::istream& fields);  // the fields after "P"

class ProgressView {
 public:
  ProgressView(std::FILE* out, bool tty, std::string label, int target, int workers);
  void update(int worker, const Progress& p);
  // Renders if due (or `force`); clears the live line at the end.
  void render(bool force = false);
  void finish();

 private:
  std::string phase() const;  // the earliest phase any worker is in
  std::FILE* out_;
  bool tty_;
  std::string label_;
  int target_;
  std::vector<Progress> workers_;
  std::string last_phase_;
  std::uint64_t last_calls_ = 0;
  std::uint64_t last_requests_ = 0;
  std::chrono::steady_clock::time_point last_render_, last_line_;
};

}  // namespace msb::cli
