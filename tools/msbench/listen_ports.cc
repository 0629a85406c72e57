#include "listen_ports.h"

#include <algorithm>
#include <fstream>

namespace msb::cli {

namespace {

// Of the ports of one parity, the share one destination may use: the rest is slack for
// other processes, for connections in TIME_WAIT, and for ports taken out of order.
constexpr double kShareOfOneParity = 0.7;

}  // namespace

PortRange ephemeral_port_range(const std::string& path) {
  PortRange r;
  std::ifstream in(path);
  int low = 0, high = 0;
  if (in >> low >> high && 0 < low && low <= high && high <= 65535) {
    r.low = low;
    r.high = high;
  }
  return r;
}

int connections_per_destination(PortRange range) {
  const int one_parity = (range.high - range.low + 1) / 2;
  return std::max(1, static_cast<int>(one_parity * kShareOfOneParity));
}

int listen_ports_needed(int connections, int addresses, int wanted, PortRange range) {
  const int per_destination = connections_per_destination(range);
  const int destinations = (connections + per_destination - 1) / per_destination;
  const int ports = (destinations + std::max(1, addresses) - 1) / std::max(1, addresses);
  return std::max({1, wanted, ports});
}

}  // namespace msb::cli
