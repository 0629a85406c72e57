// The built-in world a run talks to: one trickle server process per worker (each server's
// fresh ports are destinations of that worker's own, so the ~28k ephemeral ports per
// destination never run out), listening on enough ports that the kernel's local-port search
// stays short (listen_ports.h); and, for runs by name, one dnsmasq that knows every name.
// Nothing is started for a URL target.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dns_server.h"
#include "run_config.h"
#include "server_process.h"
#include "workload.h"

namespace msb::cli {

class ServerFleet {
 public:
  // Forks the servers (call while the process has no threads). Throws if one cannot start.
  ServerFleet(const RunConfig& config, int workers);
  ~ServerFleet();
  // Fills in what worker `w` connects to: its server's endpoints and the DNS server.
  void describe(int w, WorkerPlan& plan) const;
  // Ports per address each server listens on (0 without servers).
  int listen_ports() const { return listen_ports_; }
  void stop();  // stops every server now

 private:
  const RunConfig& config_;
  std::unique_ptr<server::Dnsmasq> dns_;
  std::vector<std::unique_ptr<server::ServerProcess>> servers_;
  int listen_ports_ = 0;
  std::string cert_dir_;  // scheme https: the run's key and certificate, removed at the end
  server::TlsFiles tls_;
};

}  // namespace msb::cli
