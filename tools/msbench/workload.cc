#include "workload.h"

#include <stdexcept>

#include "closed_port.h"
#include "dns_server.h"

namespace msb::cli {

namespace {

constexpr std::size_t kNoreadPadding = 24 << 20;

const server::Fault& fault_of(const RunConfig& c) {
  const server::Fault* f = server::find_fault(c.fault);
  if (!f) throw std::runtime_error("worker: unknown fault '" + c.fault + "'");
  return *f;
}

}  // namespace

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
      rng_(config.seed * 1000003u + static_cast<std::uint64_t>(plan.index)) {
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

std::string Workload::path(bool active, bool faulty) const {
  if (faulty && fault_.kind == FaultKind::server) return fault_.path;
  if (active) {
    return "/trickle/1000000000000/" + std::to_string(config_.trickle_interval_ms) + "/" +
           std::to_string(config_.trickle_bytes);
  }
  return "/idle";
}

std::string Workload::url(std::size_t i) {
  if (config_.target != "builtin") return config_.target;
  const bool faulty = fault_.kind != FaultKind::none && coin_(rng_) < config_.fault_fraction;
  const bool active = !faulty && coin_(rng_) < config_.active_fraction;
  if (faulty && refusing_) return "http://127.0.0.1:" + std::to_string(refusing_->port()) + "/";
  if (faulty && (fault_.kind == FaultKind::dns_nxdomain || fault_.kind == FaultKind::dns_refused ||
                 fault_.kind == FaultKind::dns_silent)) {
    // NXDOMAIN: a name in the DNS server's own domain that it does not have; REFUSED: a
    // name outside it (it forwards nowhere); silence: all lookups go to a mute server.
    const int port = plan_.ports_by_address[0][0];
    const std::string name =
        fault_.kind == FaultKind::dns_nxdomain  ? "missing" + std::to_string(i) + ".msb.test"
        : fault_.kind == FaultKind::dns_refused ? "n" + std::to_string(i) + ".elsewhere.example"
                                                : "n0.msb.test";
    return "http://" + name + ":" + std::to_string(port) + "/idle";
  }
  if (config_.names > 0) {
    // Names spread over all workers; name k lives at address k % addresses.
    const std::size_t k =
        (i * static_cast<std::size_t>(plan_.count) + static_cast<std::size_t>(plan_.index)) %
        static_cast<std::size_t>(config_.names);
    const auto& ports = plan_.ports_by_address[k % plan_.ports_by_address.size()];
    const int port = ports[(i / plan_.ports_by_address.size()) % ports.size()];
    return "http://n" + std::to_string(k) + ".msb.test:" + std::to_string(port) +
           path(active, faulty);
  }
  return plan_.bases[i % plan_.bases.size()] + path(active, faulty);
}

}  // namespace msb::cli
