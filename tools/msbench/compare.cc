#include "compare.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

namespace msb::cli {

namespace {

double p_us(const RunResult& r, double q) {
  return double(r.engine.socket_action_socket_ns.quantile(q)) / 1e3;
}

// CPU seconds (user + sys) per event handled in the measured phase, in microseconds.
double cpu_per_event_us(const RunResult& r) {
  const auto events = r.engine.socket_action_socket_ns.count();
  return events ? (r.cpu_user_s + r.cpu_sys_s) * 1e6 / double(events) : 0;
}

double rss_per_connection(const RunResult& r) {
  return r.added ? double(r.rss_open_kb - r.rss_before_kb) * 1024.0 / double(r.added) : 0;
}

double ratio(double a, double b) {
  return b > 0 ? a / b : 0;
}

const RunResult* partner(const std::vector<RunResult>& runs, const RunResult& r,
                         const char* engine) {
  for (const RunResult& o : runs) {
    if (o.config.pair == r.config.pair && o.config.engine == engine && &o != &r) return &o;
  }
  return nullptr;
}

nlohmann::json ratio_json(const RunResult& r, const RunResult& base, bool with_rss) {
  nlohmann::json j = {{"p50", ratio(p_us(r, 0.5), p_us(base, 0.5))},
                      {"p99", ratio(p_us(r, 0.99), p_us(base, 0.99))},
                      {"cpu_per_event", ratio(cpu_per_event_us(r), cpu_per_event_us(base))},
                      // The ramp's length: how much the engine adds to opening connections
                      // (1.0 where the asked connect_rate, not either side, set the pace).
                      {"ramp", ratio(r.ramp_s, base.ramp_s)}};
  if (with_rss) j["rss_per_connection"] = ratio(rss_per_connection(r), rss_per_connection(base));
  return j;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

nlohmann::json ratios_for(const std::vector<RunResult>& runs, std::size_t i) {
  const RunResult& r = runs[i];
  nlohmann::json j = nlohmann::json::object();
  if (r.config.engine == "floor") return j;
  if (const RunResult* f = partner(runs, r, "floor"))
    j["ratio_to_floor"] = ratio_json(r, *f, false);
  if (r.config.engine != "libcurl") {
    if (const RunResult* c = partner(runs, r, "libcurl"))
      j["ratio_to_libcurl"] = ratio_json(r, *c, true);
  }
  return j;
}

void print_comparison(const std::vector<RunResult>& runs, std::FILE* out) {
  // Sweep points by their first pair; a point's pairs are its repetitions.
  struct Point {
    int connections = 0;
    std::string backend;
    std::string scheme;
    std::map<std::string, std::vector<const RunResult*>> by_engine;
  };
  std::map<std::string, Point> points;
  std::vector<std::string> order;
  for (const RunResult& r : runs) {
    // Each libcurl build swept is a point of its own, with its own msbench and floor runs;
    // so is each scheme (HTTPS costs differ from plain HTTP's several times over).
    const std::string key = fmt::format(
        "{}/{}/{}/{}/{}/{}/{}", r.config.connections, r.config.backend, r.config.sockindex,
        r.config.timers, r.config.active_fraction, r.config.libcurl, r.config.scheme);
    if (!points.count(key)) order.push_back(key);
    Point& p = points[key];
    p.connections = r.config.connections;
    p.backend = r.config.backend;
    p.scheme = r.config.scheme;
    p.by_engine[r.config.engine].push_back(&r);
  }
  const bool builds_swept = std::any_of(
      runs.begin(), runs.end(), [](const RunResult& r) { return !r.config.libcurl.empty(); });
  // The scheme beside the backend ("epoll/https") once any run is not plain HTTP.
  const bool tls_seen = std::any_of(runs.begin(), runs.end(),
                                    [](const RunResult& r) { return r.config.scheme != "http"; });
  bool header = false;
  for (const auto& key : order) {
    const Point& p = points[key];
    if (p.by_engine.size() < 2) continue;
    const auto curl = p.by_engine.find("libcurl");
    if (!header) {
      fmt::print(out, "\nengines compared pair by pair (median over repetitions)\n");
      fmt::print(out, "{:>8} {:<11} {:<8} {:>8} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
                 "conns", tls_seen ? "backend/sch" : "backend", "engine", "p50 us", "p99 us",
                 "cpu/ev us", "B/conn", "conn/s", "p50/floor", "p99/floor", "p50/curl");
      header = true;
    }
    if (builds_swept && curl != p.by_engine.end())
      fmt::print(out, "  with {}\n", curl->second.front()->engine_version);
    for (const char* engine : {"msbench", "libcurl", "floor"}) {
      auto it = p.by_engine.find(engine);
      if (it == p.by_engine.end()) continue;
      std::vector<double> p50, p99, cpu, rss, rate, p50_floor, p99_floor, p50_curl;
      for (const RunResult* r : it->second) {
        p50.push_back(p_us(*r, 0.5));
        p99.push_back(p_us(*r, 0.99));
        cpu.push_back(cpu_per_event_us(*r));
        rss.push_back(rss_per_connection(*r));
        rate.push_back(r->connect_rate_achieved());  // over the whole ramp, every worker
        if (const RunResult* f = partner(runs, *r, "floor"); f && r->config.engine != "floor") {
          p50_floor.push_back(ratio(p_us(*r, 0.5), p_us(*f, 0.5)));
          p99_floor.push_back(ratio(p_us(*r, 0.99), p_us(*f, 0.99)));
        }
        if (const RunResult* c = partner(runs, *r, "libcurl"); c && r->config.engine == "msbench") {
          p50_curl.push_back(ratio(p_us(*r, 0.5), p_us(*c, 0.5)));
        }
      }
      auto cell = [](const std::vector<double>& v) {
        return v.empty() ? std::string("-") : fmt::format("{:.2f}", median(v));
      };
      fmt::print(
          out,
          "{:>8} {:<11} {:<8} {:>8.2f} {:>8.2f} {:>10.2f} {:>9.0f} {:>9.0f} {:>9} {:>9} {:>9}\n",
          p.connections, tls_seen ? p.backend + "/" + p.scheme : p.backend, engine, median(p50),
          median(p99), median(cpu), median(rss), median(rate), cell(p50_floor), cell(p99_floor),
          cell(p50_curl));
    }
  }
}

}  // namespace msb::cli
