// Real DNS servers on loopback for the resolver tests: dnsmasq (Debian's dnsmasq-base)
// serving records the test writes, and a "black hole" UDP port that never answers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace msb::test {

class Dnsmasq {
 public:
  // Serves `records` (name, IPv4) for the zone msb.test, answering NXDOMAIN for other names
  // in it and REFUSED outside it. Throws if dnsmasq is missing or does not come up.
  explicit Dnsmasq(const std::vector<std::pair<std::string, std::string>>& records,
                   int ttl_s = 60);
  ~Dnsmasq();
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  bool start(const std::vector<std::pair<std::string, std::string>>& records, int ttl_s,
             std::string* why);
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

// A bound UDP port that reads nothing and answers nothing.
class SilentDns {
 public:
  SilentDns();
  ~SilentDns();
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace msb::test
