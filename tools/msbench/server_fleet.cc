#include "server_fleet.h"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>

#include "faults.h"
#include "listen_ports.h"

namespace msb::cli {

ServerFleet::ServerFleet(const RunConfig& config, int workers) : config_(config) {
  if (!config.builtin()) return;
  const server::Fault* fault = server::find_fault(config.fault);
  const bool dns_answers_faults = fault && (fault->kind == server::FaultKind::dns_nxdomain ||
                                            fault->kind == server::FaultKind::dns_refused);
  if (config.names > 0 || dns_answers_faults) {
    std::vector<std::pair<std::string, std::string>> records;
    for (int k = 0; k < std::max(config.names, 1); ++k) {
      records.emplace_back("n" + std::to_string(k) + ".msb.test",
                           "127.0.0." + std::to_string(1 + k % config.addresses));
    }
    dns_ = std::make_unique<server::Dnsmasq>(records);
  }
  server::ServerOptions so;
  so.addresses.clear();
  for (int a = 1; a <= config.addresses; ++a)
    so.addresses.push_back("127.0.0." + std::to_string(a));
  // A port-exhaustion run wants its few local ports used up against one destination.
  const int most_per_worker = (config.connections + workers - 1) / workers;
  const PortRange range = ephemeral_port_range();
  so.port_count = config.local_ports > 0
                      ? config.ports
                      : listen_ports_needed(most_per_worker, config.addresses, config.ports, range);
  if (so.port_count > config.ports) {
    std::fprintf(stderr,
                 "msbench: servers listen on %d ports per address (%d connections per worker, "
                 "at most %d per destination keeps the kernel's local-port search short)\n",
                 so.port_count, most_per_worker, connections_per_destination(range));
  }
  if (config.scheme == "https") {
    // One certificate for every server of the run, for its addresses and names; the
    // workers trust it (verification stays on) through their CA file.
    char dir[] = "/tmp/msbench-tls-XXXXXX";
    if (!::mkdtemp(dir))
      throw std::runtime_error("cannot make a directory for the run's certificate");
    cert_dir_ = dir;
    std::vector<std::string> names = {"*.msb.test"};
    for (const auto& a : so.addresses) names.push_back(a);
    tls_ = server::make_self_signed(cert_dir_, names);
    so.tls = tls_;
    so.tls_port_count = so.port_count;
    so.port_count = 0;
  }
  for (int w = 0; w < workers; ++w) servers_.push_back(std::make_unique<server::ServerProcess>(so));
  int serving = 0;  // endpoints for requests (not a TLS fault's)
  for (const auto& e : servers_[0]->endpoints()) serving += e.fault.empty() ? 1 : 0;
  listen_ports_ = serving / config.addresses;
}

ServerFleet::~ServerFleet() {
  servers_.clear();
  if (!cert_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(cert_dir_, ignored);
  }
}

void ServerFleet::describe(int w, WorkerPlan& plan) const {
  if (dns_) plan.dns_server = dns_->server();
  if (servers_.empty()) return;
  plan.ca_file = tls_.cert_file;
  plan.ports_by_address.assign(static_cast<std::size_t>(config_.addresses), {});
  for (const auto& e : servers_[static_cast<std::size_t>(w)]->endpoints()) {
    if (!e.fault.empty()) {
      plan.tls_fault_ports[e.fault] = e.port;
      continue;
    }
    plan.bases.push_back((e.tls ? "https://" : "http://") + e.address + ":" +
                         std::to_string(e.port));
    const int a = std::stoi(e.address.substr(e.address.rfind('.') + 1)) - 1;
    plan.ports_by_address[static_cast<std::size_t>(a)].push_back(e.port);
  }
}

void ServerFleet::stop() {
  servers_.clear();
}

}  // namespace msb::cli
