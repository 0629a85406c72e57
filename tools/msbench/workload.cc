#include "workload.h"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "closed_port.h"
#include "dns_server.h"

namespace msb::cli {

namespace {

constexpr std::size_t kNoreadPadding = 24 << 20;

// A body as a scenario gives it: the text, or @file for a file's bytes.
std::shared_ptr<const std::string> body_of(const std::string& body) {
  if (body.empty()) return nullptr;
  if (body[0] != '@') return std::make_shared<const std::string>(body);
  std::ifstream in(body.substr(1), std::ios::binary);
  if (!in) throw std::runtime_error("body file '" + body.substr(1) + "' cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return std::make_shared<const std::string>(text.str());
}

const server::Fault& fault_of(const RunConfig& c) {
  const server::Fault* f = server::find_fault(c.fault);
  if (!f) throw std::runtime_error("worker: unknown fault '" + c.fault + "'");
  return *f;
}

}  // namespace

std::vector<RequestKind> request_kinds(const RunConfig& config) {
  std::vector<RequestKind> kinds;
  if (config.requests.empty()) {
    RequestKind k;
    // Without a path: the target URL itself ("" for the worker's own of `targets`).
    k.url = !config.path.empty() ? config.path : config.targets.empty() ? config.target : "";
    k.method = config.method;
    k.headers = config.headers;
    k.body = body_of(config.body);
    kinds.push_back(std::move(k));
    return kinds;
  }
  for (const std::string& text : config.requests) {
    const auto j = nlohmann::json::parse(text);
    RequestKind k;
    k.url = j.value("url", j.value("path", std::string()));
    k.method = j.value("method", std::string("GET"));
    k.headers = j.value("headers", std::vector<std::string>{});
    k.body = body_of(j.value("body", std::string()));
    k.weight = j.value("weight", 1.0);
    kinds.push_back(std::move(k));
  }
  return kinds;
}

using server::FaultKind;

Workload::Workload(const RunConfig& config, const WorkerPlan& plan)
    : config_(config),
      plan_(plan),
      fault_(fault_of(config)),
      // 0: just longer than the run can last, so a silent server still cannot hold a
      // transfer past its run.
      total_timeout_ms_(config.total_timeout_ms
                            ? config.total_timeout_ms
                            : static_cast<std::uint32_t>(
                                  (kRampCapS + config.warmup_s + config.duration_s + 60) * 1000)),
      rng_(config.seed * 1000003u + static_cast<std::uint64_t>(plan.stream)),
      target_(config.targets.empty()
                  ? config.target
                  : config.targets[static_cast<std::size_t>(plan.stream) % config.targets.size()]) {
  if (config.is_load()) {
    kinds_ = request_kinds(config);
    double sum = 0;
    for (const auto& k : kinds_) cumulative_.push_back(sum += k.weight);
    sources_ = plan.source_addresses;
  }
  if (fault_.kind == FaultKind::refused) refusing_ = std::make_unique<server::ClosedPort>();
  if (fault_.kind == FaultKind::dns_silent) {
    if (config.fault_fraction < 1.0) {
      throw std::runtime_error(
          "fault dns_silent mutes the one DNS server: it needs fault_fraction = 1");
    }
    silent_dns_ = std::make_unique<server::SilentDns>();
  }
}

Workload::~Workload() = default;

std::string Workload::dns_server() const {
  return silent_dns_ ? silent_dns_->server() : plan_.dns_server;
}

TransferSpec Workload::next(std::size_t i) {
  TransferSpec spec;
  spec.url = url(i);
  spec.total_timeout_ms = total_timeout_ms_;
  spec.connect_timeout_ms = config_.connect_timeout_ms;
  spec.low_speed_limit = config_.low_speed_limit;
  spec.low_speed_time_ms = config_.low_speed_time_ms;
  if (config_.fault == "noread" && spec.url.find(fault_.path) != std::string::npos) {
    // Larger than loopback's socket buffers on both sides, so the send blocks.
    spec.headers.push_back("X-Padding: " + std::string(kNoreadPadding, 'p'));
  }
  return spec;
}

std::string Workload::absolute(const std::string& url_or_path) {
  if (is_web_url(url_or_path)) return url_or_path;
  if (url_or_path.empty()) return target_;
  if (config_.builtin()) {
    const std::string& base = plan_.bases[next_base_++ % plan_.bases.size()];
    return base + url_or_path;
  }
  // A path on the target's origin.
  const auto slash = target_.find('/', target_.find("://") + 3);
  return target_.substr(0, slash) + url_or_path;
}

TransferSpec Workload::request() {
  std::size_t k = 0;
  if (kinds_.size() > 1) {
    const double draw = coin_(rng_) * cumulative_.back();
    k = static_cast<std::size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), draw) -
                                 cumulative_.begin());
    k = std::min(k, kinds_.size() - 1);
  }
  const RequestKind& kind = kinds_[k];
  TransferSpec spec;
  spec.url = absolute(kind.url);
  spec.method = kind.method;
  spec.headers = kind.headers;
  spec.body = kind.body;
  if (!sources_.empty()) spec.source_address = sources_[next_source_++ % sources_.size()];
  spec.total_timeout_ms = total_timeout_ms_;
  spec.connect_timeout_ms = config_.connect_timeout_ms;
  spec.low_speed_limit = config_.low_speed_limit;
  spec.low_speed_time_ms = config_.low_speed_time_ms;
  return spec;
}

std::string Workload::path(bool active, bool faulty) const {
  if (faulty && fault_.kind == FaultKind::server) return fault_.path;
  if (active) {
    return "/trickle/1000000000000/" + std::to_string(config_.trickle_interval_ms) + "/" +
           std::to_string(config_.trickle_bytes);
  }
  return "/idle";
}

namespace {

// SplitMix64 (Steele, Lea, Flood 2014): a counter-based stream, so connection g's draws come
// from (seed, g) alone, whichever worker or shard opens it.
double draw_unit(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

}  // namespace

std::string Workload::url(std::size_t i) {
  if (!config_.builtin()) return target_;
  const auto g = static_cast<std::uint64_t>(plan_.first_connection) + i;  // its place in the run
  std::uint64_t state = config_.seed * 0x2545f4914f6cdd1dull ^ (g * 0x9e3779b97f4a7c15ull);
  const bool faulty = fault_.kind != FaultKind::none && draw_unit(state) < config_.fault_fraction;
  const bool active = !faulty && draw_unit(state) < config_.active_fraction;
  if (faulty && refusing_) return "http://127.0.0.1:" + std::to_string(refusing_->port()) + "/";
  if (faulty && fault_.kind == FaultKind::tls) {
    const auto port = plan_.tls_fault_ports.find(fault_.name);
    if (port != plan_.tls_fault_ports.end())
      return "https://127.0.0.1:" + std::to_string(port->second) + path(active, false);
  }
  if (faulty && (fault_.kind == FaultKind::dns_nxdomain || fault_.kind == FaultKind::dns_refused ||
                 fault_.kind == FaultKind::dns_silent)) {
    // NXDOMAIN: a name in the DNS server's own domain that it does not have; REFUSED: a
    // name outside it (it forwards nowhere); silence: all lookups go to a mute server.
    const int port = plan_.ports_by_address[0][0];
    const std::string name =
        fault_.kind == FaultKind::dns_nxdomain  ? "missing" + std::to_string(i) + ".msb.test"
        : fault_.kind == FaultKind::dns_refused ? "n" + std::to_string(i) + ".elsewhere.example"
                                                : "n0.msb.test";
    return config_.scheme + "://" + name + ":" + std::to_string(port) + "/idle";
  }
  if (config_.names > 0) {
    // Names spread over the run's connections; name k lives at address k % addresses.
    const std::size_t k = static_cast<std::size_t>(g % static_cast<std::uint64_t>(config_.names));
    const auto& ports = plan_.ports_by_address[k % plan_.ports_by_address.size()];
    const int port = ports[(i / plan_.ports_by_address.size()) % ports.size()];
    return config_.scheme + "://n" + std::to_string(k) + ".msb.test:" + std::to_string(port) +
           path(active, faulty);
  }
  return plan_.bases[i % plan_.bases.size()] + path(active, faulty);
}

}  // namespace msb::cli
