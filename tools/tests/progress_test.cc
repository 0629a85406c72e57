// The live line: it fits the terminal, leaves no residue, names its window, and never shows
// figures it does not have yet. Off a TTY, one line per phase with that phase's figures.
#include "progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace msb::cli {
namespace {

std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// What a view wrote to a temporary file.
std::string written(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) s.append(buf, n);
  return s;
}

Progress second(const char* phase, std::uint64_t calls) {
  Progress p;
  p.phase = phase;
  p.open = 500;
  p.window_s = 1.0;
  p.calls = calls;
  p.p50_us = 2.5;
  p.p99_us = 19.25;
  return p;
}

TEST(Progress, FitLineShortensTheLabelFirstThenDropsTrailingParts) {
  const std::string label = "quick [1/1] msbench epoll resizable 1000 conns";
  const std::vector<std::string> parts = {"measuring", "open 10/10", "last 1 s: 1000 calls/s",
                                          "errors 0"};
  EXPECT_EQ(fit_line(label, parts, 200),
            label + " | measuring | open 10/10 | last 1 s: 1000 calls/s | errors 0");
  EXPECT_EQ(fit_line(label, parts, 80),
            "quick [1/1] msbenc… | measuring | open 10/10 | last 1 s: 1000 calls/s | errors 0");
  EXPECT_EQ(fit_line(label, parts, 40), "measuring | open 10/10");
  EXPECT_EQ(fit_line(label, parts, 5), "measu");
  for (std::size_t w = 1; w < 120; ++w) EXPECT_LE(columns(fit_line(label, parts, w)), w) << w;
}

TEST(Progress, LiveLineFitsEightyColumnsAndClearsWhatAnEarlierLineLeft) {
  setenv("COLUMNS", "80", 1);  // a file has no window size: the view falls back to COLUMNS
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressView view(f, true, "quick [1/1] msbench epoll resizable 1000 conns", 1000, 2);
    Progress starting;
    starting.phase = "measuring";
    starting.open = 500;
    view.update(0, starting);  // entered the phase, no complete second yet
    view.update(1, starting);
    view.render(true);
    view.update(0, second("measuring", 123456));
    view.update(1, second("measuring", 1000));
    view.render(true);
    view.finish();
  }
  const std::string out = written(f);
  std::fclose(f);
  std::vector<std::string> frames;
  for (std::size_t at = 0; (at = out.find('\r', at)) != std::string::npos; ++at) {
    const std::size_t end = out.find("\x1b[K", at);
    ASSERT_NE(end, std::string::npos) << "every frame clears to the end of the line";
    frames.push_back(out.substr(at + 1, end - at - 1));
  }
  ASSERT_GE(frames.size(), 3u);
  EXPECT_EQ(out.find('\n'), std::string::npos) << "a live line never starts a new line";
  for (const auto& frame : frames) EXPECT_LE(columns(frame), 79u) << frame;
  EXPECT_NE(frames[0].find("last 1 s: …"), std::string::npos) << frames[0];
  EXPECT_EQ(frames[0].find("0.0"), std::string::npos) << "no figures before a complete second";
  EXPECT_NE(frames[1].find("last 1 s: 124.5k calls/s | p50 2.5 p99 19.2 us"), std::string::npos)
      << frames[1];
  EXPECT_EQ(frames.back(), "");  // finish() leaves a clean line
}

TEST(Progress, OffATtyEachPhasePrintsOneLineWithItsOwnFigures) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressView view(f, false, "run", 10, 2);
    for (int w = 0; w < 2; ++w) view.update(w, second("warm-up", 50));
    view.render(true);
    Progress ended = second("warm-up", 100);
    ended.ended = true;
    ended.window_s = 0.5;  // a half-second phase: its own figures, per second
    view.update(0, ended);
    EXPECT_EQ(written(f), "") << "not before every worker has ended the phase";
    view.update(1, ended);
  }
  const std::string out = written(f);
  std::fclose(f);
  EXPECT_EQ(out,
            "run | warm-up 0.5 s | open 1000/10 | whole phase: 400 calls/s | p50 2.5 p99 19.2 us"
            " (worst worker) | errors 0\n");
}

TEST(Progress, TravelsAsOneLine) {
  Progress p = second("measuring", 42);
  p.ended = true;
  p.requests = 7;
  p.request_p99_us = 1234.5;
  std::istringstream line(format_progress(p).substr(2));
  const Progress q = parse_progress(line);
  EXPECT_EQ(q.phase, "measuring");
  EXPECT_TRUE(q.ended);
  EXPECT_EQ(q.calls, 42u);
  EXPECT_EQ(q.requests, 7u);
  EXPECT_DOUBLE_EQ(q.window_s, 1.0);
  EXPECT_DOUBLE_EQ(q.request_p99_us, 1234.5);
}

}  // namespace
}  // namespace msb::cli

namespace msb::cli {
namespace {

// A fast worker may end the next phase before a slow one ends this: both phases still get
// their line, each once.
TEST(Progress, PhaseLinesWaitForTheSlowestWorkerWithoutLosingAPhase) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressView view(f, false, "run", 10, 2);
    auto end = [&](int worker, const char* phase) {
      Progress p = second(phase, 10);
      p.ended = true;
      view.update(worker, p);
    };
    end(0, "measuring");
    end(0, "teardown");
    end(1, "measuring");
    end(1, "teardown");
  }
  const std::string out = written(f);
  std::fclose(f);
  EXPECT_EQ(out.find("run | measuring 1.0 s"), 0u) << out;
  EXPECT_NE(out.find("\nrun | teardown 1.0 s"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

}  // namespace
}  // namespace msb::cli
