// The built-in trickle server in a child process of its own, so that client and server
// each get the full open-files limit (20,000 here, and not raisable in most containers).
#pragma once

#include <sys/types.h>

#include <vector>

#include "trickle_server.h"

namespace msb::server {

class ServerProcess {
 public:
  // Forks; the child listens, reports its endpoints through a pipe and serves until
  // stopped. Throws std::runtime_error with the child's reason if it could not listen.
  // Call before starting threads.
  explicit ServerProcess(const ServerOptions& options);
  ~ServerProcess();  // stop()
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  // SIGTERM, then waits for the child to exit.
  void stop();

 private:
  pid_t pid_ = -1;
  std::vector<Endpoint> endpoints_;
};

// In a child just forked from `parent`: SIGTERM when the parent dies, so a test or runner
// that crashes leaves no server behind (one would hold the test's output pipe open).
void terminate_with_parent(pid_t parent);

// Raises the soft open-files limit to the hard one; returns the limit now in force.
long raise_fd_limit();

}  // namespace msb::server
