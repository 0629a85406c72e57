// A loopback port that refuses connections for as long as this object lives: bound but never
// listening, so no other socket can take the port and start accepting on it.
#pragma once

#include <cstdint>

namespace msb::server {

class ClosedPort {
 public:
  ClosedPort();  // throws std::runtime_error if no port can be bound
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace msb::server
