// How many ports each built-in server listens on, so that the kernel can still pick local
// ports quickly for every connection a worker makes.
//
// Linux chooses a connect()'s local port by scanning the ephemeral range from an offset
// kept per destination (__inet_hash_connect), trying ports of one parity first. Towards
// one address:port, once that half of the range is in use, every further connect scans it
// all: idle-1m stalled at ~773,000 connections (14,600 per worker, one destination each),
// 98% of the CPU in the kernel. So the runner spreads each worker's connections over
// enough listening ports that no destination gets more than kShareOfOneParity of its half.
#pragma once

#include <string>

namespace msb::cli {

struct PortRange {
  int low = 32768, high = 60999;  // inclusive, as in /proc/sys/net/ipv4/ip_local_port_range
};

// The system's ephemeral range; Linux's default if the file cannot be read.
PortRange ephemeral_port_range(const std::string& path = "/proc/sys/net/ipv4/ip_local_port_range");

// Connections one destination (address:port) should hold at most with this range.
int connections_per_destination(PortRange range);

// Ports per address each server should listen on: at least `wanted`, and enough that
// `connections` (one worker's share) spread over `addresses` x ports stay within
// connections_per_destination().
int listen_ports_needed(int connections, int addresses, int wanted, PortRange range);

}  // namespace msb::cli
