#include "shard.h"

#include <sys/timex.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <stdexcept>

namespace msb::cli {

namespace {

// A whole non-negative number, all of `text`.
std::optional<long long> whole(const std::string& text) {
  long long v = 0;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || text.empty() || v < 0) return std::nullopt;
  return v;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Shard make_shard(const std::string& index_text, const std::string& count_text,
                 const std::string& what) {
  const auto i = whole(index_text), n = whole(count_text);
  if (!i || !n || *n < 1 || *n > 1'000'000 || *i >= *n) {
    throw std::invalid_argument(what + ": '" + index_text + "/" + count_text +
                                "' is not a shard: it takes I/N with 0 <= I < N");
  }
  return Shard{static_cast<int>(*i), static_cast<int>(*n), "none"};
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos)
    throw std::invalid_argument("--shard: '" + text + "' is not I/N (e.g. 0/3)");
  Shard s = make_shard(text.substr(0, slash), text.substr(slash + 1), "--shard");
  s.from = "--shard";
  return s;
}

std::optional<Shard> shard_from_environment() {
  if (const std::string k8s = env("JOB_COMPLETION_INDEX"); !k8s.empty()) {
    const std::string n = env("MSBENCH_SHARD_COUNT");
    if (n.empty()) {
      throw std::invalid_argument(
          "JOB_COMPLETION_INDEX is set but MSBENCH_SHARD_COUNT is not: the Job's manifest must "
          "pass its completions (deploy/kubernetes/job.yaml does)");
    }
    Shard s = make_shard(k8s, n, "JOB_COMPLETION_INDEX/MSBENCH_SHARD_COUNT");
    s.from = "JOB_COMPLETION_INDEX";
    return s;
  }
  // Only inside a job step (srun): the batch script itself also has SLURM_PROCID=0 and the
  // job's SLURM_NTASKS, but no SLURM_STEP_ID, and a run there is not one task's shard.
  if (const std::string id = env("SLURM_PROCID"); !id.empty() && !env("SLURM_STEP_ID").empty()) {
    const std::string n = env("SLURM_NTASKS");
    if (n.empty()) throw std::invalid_argument("SLURM_PROCID is set but SLURM_NTASKS is not");
    Shard s = make_shard(id, n, "SLURM_PROCID/SLURM_NTASKS");
    s.from = "SLURM_PROCID";
    return s;
  }
  return std::nullopt;
}

std::int64_t share(std::int64_t total, int n, int i) {
  return total / n + (i < total % n ? 1 : 0);
}

std::int64_t share_start(std::int64_t total, int n, int i) {
  return total / n * i + std::min<std::int64_t>(i, total % n);
}

double parse_start_at(const std::string& text) {
  const auto bad = [&](const char* why) {
    return std::invalid_argument("--start-at: '" + text + "' " + why +
                                 " (RFC 3339, e.g. 2026-12-02T16:00:00Z, or Unix seconds)");
  };
  if (text.find('-') == std::string::npos || text.find('T') == std::string::npos) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(v > 0)) throw bad("is not a time");
    return v;
  }
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    throw bad("is not a time");
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    throw bad("has a field out of range");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  double t = static_cast<double>(timegm(&tm));
  std::size_t p = static_cast<std::size_t>(consumed);
  if (p < text.size() && text[p] == '.') {
    std::size_t q = p + 1;
    while (q < text.size() && text[q] >= '0' && text[q] <= '9') ++q;
    if (q == p + 1) throw bad("has an empty fraction");
    t += std::strtod(text.substr(p, q - p).c_str(), nullptr);
    p = q;
  }
  const std::string zone = text.substr(p);
  if (zone == "Z" || zone == "z") return t;
  int zh = 0, zm = 0;
  char sign = 0;
  if (zone.size() == 6 && std::sscanf(zone.c_str(), "%c%2d:%2d", &sign, &zh, &zm) == 3 &&
      (sign == '+' || sign == '-') && zh <= 23 && zm <= 59) {
    const double offset = zh * 3600.0 + zm * 60.0;
    return sign == '+' ? t - offset : t + offset;
  }
  throw bad("needs a time zone: Z or +hh:mm");
}

std::string scenario_digest(const nlohmann::json& resolved) {
  const nlohmann::json what = {{"keys", resolved.value("keys", nlohmann::json::object())},
                               {"swept", resolved.value("swept", nlohmann::json::array())},
                               {"repetitions", resolved.value("repetitions", 1)}};
  // FNV-1a, 64 bits: names a configuration, not a security boundary.
  std::uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : what.dump()) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::string run_id(const std::string& given, const std::string& digest, double start_at_unix_s,
                   double started_unix_s) {
  if (!given.empty()) return given;
  if (const std::string id = env("MSBENCH_RUN_ID"); !id.empty()) return id;
  if (const std::string job = env("SLURM_JOB_ID"); !job.empty()) {
    const std::string step = env("SLURM_STEP_ID");
    return "slurm-" + job + (step.empty() ? "" : "." + step);
  }
  const double t = start_at_unix_s > 0 ? start_at_unix_s : started_unix_s;
  char at[32];
  std::snprintf(at, sizeof at, "%.3f", t);
  return digest.substr(0, 12) + "@" + at;
}

nlohmann::json clock_facts() {
  std::string source;
  std::ifstream("/sys/devices/system/clocksource/clocksource0/current_clocksource") >> source;
  timex tx{};
  const int state = adjtimex(&tx);
  return {{"source", source.empty() ? "unknown" : source},
          {"synchronized", state != TIME_ERROR && !(tx.status & STA_UNSYNC)},
          {"max_error_us", tx.maxerror}};
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace msb::cli
