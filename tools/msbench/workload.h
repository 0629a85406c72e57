// What a worker asks for, chosen from the run's settings and the worker's share of the
// world (its server's endpoints, the DNS names, the source addresses, the faults it makes
// itself):
//  - the trickle workload (a builtin target with no request path): one long response per
//    connection, idle or trickling or faulty, as the seeded draw says (next());
//  - load (a request path, [[request]] tables, or a URL target): requests of one kind, or a
//    weighted mix drawn per request (request()).
#pragma once

#include <cstdint>
#include <map>
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
  int index = 0;  // this worker, among `count` (of its shard: the processes on one host)
  int count = 1;
  int connections = 0;  // this worker's share
  // Its first connection's place in the whole run (all shards): a connection's seeded draws
  // and its DNS name follow its place, so a sharded run opens what a whole one does.
  std::int64_t first_connection = 0;
  // This worker among every worker of every shard: its random stream, its local-port range,
  // and its turn in the open model's schedule (stream s of S sends the requests due at
  // rate_offset_s + k/rate with rate the whole run's over S: s/run rate).
  int stream = 0, streams = 1;
  double connect_rate = 0;   // this worker's share, per second
  double rate = 0;           // load, open model: this worker's share, per second
  double rate_offset_s = 0;  // load, open model: its first request's offset in the schedule
  std::vector<std::string> source_addresses;  // its share of the run's (its shard's, split)
  // Synchronized start (--start-at), Unix seconds; 0: start now. Ramp-up begins at start_at,
  // warm-up lasts until measure_at (absorbing a ramp-up that ended early), measuring then.
  double start_at = 0, measure_at = 0;
  std::string run_id;
  std::vector<std::string> bases;  // builtin: "http[s]://addr:port" of its server's endpoints
  std::string ca_file;             // builtin https: the run's certificate, to trust
  std::map<std::string, int> tls_fault_ports;  // builtin https: each TLS fault's listener
  // builtin with names: the server's ports by address index (127.0.0.1 is index 0), and
  // the DNS server that knows n<k>.msb.test -> 127.0.0.(1 + k % addresses).
  std::vector<std::vector<int>> ports_by_address;
  std::string dns_server;
};

// One kind of request of a load: where, and what it sends.
struct RequestKind {
  std::string url;  // absolute, or a path appended to the worker's base (builtin)
  std::string method = "GET";
  std::vector<std::string> headers;
  std::shared_ptr<const std::string> body;  // null: none
  double weight = 1;
};

// The kinds of request a load sends: from [[request]] tables (each a JSON object text), or
// from path/method/headers/body. Throws std::runtime_error naming what is wrong (a body
// file that cannot be read, a malformed entry).
std::vector<RequestKind> request_kinds(const RunConfig& config);

class Workload {
 public:
  // Sets up the faults the worker makes itself (a refusing port, a mute DNS server).
  Workload(const RunConfig& config, const WorkerPlan& plan);
  ~Workload();
  // The DNS server the engine should ask ("" for the system's): the mute one for dns_silent.
  std::string dns_server() const;

  // The trickle workload: the transfer connection `i` of this worker starts. Which
  // connections are active or faulty is a seeded choice, the same for every run of the
  // seed and the connection's place in the run (however it is split over workers and shards).
  TransferSpec next(std::size_t i);

  // Load: whether every request is of one kind (then a connection can loop on it).
  bool one_kind() const { return kinds_.size() == 1; }
  // Load: a request of a kind drawn by weight, from the next source address in turn, with
  // the run's timeouts.
  TransferSpec request();

 private:
  std::string url(std::size_t i);
  std::string path(bool active, bool faulty) const;
  std::string absolute(const std::string& url_or_path);

  const RunConfig& config_;
  const WorkerPlan& plan_;
  const server::Fault& fault_;
  std::unique_ptr<server::ClosedPort> refusing_;
  std::unique_ptr<server::SilentDns> silent_dns_;
  std::uint32_t total_timeout_ms_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> coin_{0.0, 1.0};
  std::vector<RequestKind> kinds_;
  std::vector<double> cumulative_;    // the kinds' weights, summed
  std::vector<std::string> sources_;  // this worker's source addresses
  std::string target_;                // a URL target: its own of `targets`, or `target`
  std::size_t next_source_ = 0;
  std::size_t next_base_ = 0;
};

// Ramp-up ends after this even if connections are missing.
inline constexpr double kRampCapS = 120;

}  // namespace msb::cli
