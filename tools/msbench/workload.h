// What a worker asks for: the transfer each of its connections starts with, chosen from the
// run's settings and the worker's share of the built-in world (its server's endpoints, the
// DNS names, the faults it makes itself).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "faults.h"
#include "msb/transfer.h"
#include "run_config.h"

namespace msb::server {
class ClosedPort;
class SilentDns;
}  // namespace msb::server

namespace msb::cli {

struct WorkerPlan {
  int index = 0;  // this worker, among `count`
  int count = 1;
  int connections = 0;             // this worker's share
  double connect_rate = 0;         // this worker's share, per second
  std::vector<std::string> bases;  // builtin: "http://addr:port" of its server's endpoints
  // builtin with names: the server's ports by address index (127.0.0.1 is index 0), and
  // the DNS server that knows n<k>.msb.test -> 127.0.0.(1 + k % addresses).
  std::vector<std::vector<int>> ports_by_address;
  std::string dns_server;
};

class Workload {
 public:
  // Sets up the faults the worker makes itself (a refusing port, a mute DNS server).
  Workload(const RunConfig& config, const WorkerPlan& plan);
  ~Workload();
  // The DNS server the engine should ask ("" for the system's): the mute one for dns_silent.
  std::string dns_server() const;
  // The transfer connection `i` of this worker starts. Which connections are active or
  // faulty is a seeded choice, the same for every run of the seed; each worker draws from
  // a stream of its own.
  TransferSpec next(std::size_t i);

 private:
  std::string url(std::size_t i);
  std::string path(bool active, bool faulty) const;

  const RunConfig& config_;
  const WorkerPlan& plan_;
  const server::Fault& fault_;
  std::unique_ptr<server::ClosedPort> refusing_;
  std::unique_ptr<server::SilentDns> silent_dns_;
  std::uint32_t total_timeout_ms_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> coin_{0.0, 1.0};
};

// Ramp-up ends after this even if connections are missing.
inline constexpr double kRampCapS = 120;

}  // namespace msb::cli
