// Plain TCP: every call goes straight to the socket, through SysCalls.
#pragma once

#include "msb/sys.h"
#include "transport/transport.h"

namespace msb::detail {

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(SysCalls& sys) : sys_(sys) {}
  IoResult start(Connection&) override { return {}; }
  IoResult send(Connection& c, int fd, const char* data, std::size_t len) override;
  IoResult recv(Connection& c, int fd, char* buf, std::size_t len) override;
  bool reusable(Connection& c) override;
  void close(Connection& c) override;

 private:
  SysCalls& sys_;
};

}  // namespace msb::detail
