// Real DNS servers on loopback, for the resolver tests and the dns-storm scenario: dnsmasq
// (Debian's dnsmasq-base) serving records we write, and a UDP port that never answers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace msb::server {

class Dnsmasq {
 public:
  // Serves `records` (name, IPv4) with TTL ttl_s for the zone msb.test, answering NXDOMAIN
  // for other names in it and REFUSED outside it. Throws if dnsmasq is missing or does not
  // come up. Call before starting threads (it forks).
  explicit Dnsmasq(const std::vector<std::pair<std::string, std::string>>& records, int ttl_s = 60);
  ~Dnsmasq();
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  bool start(const std::vector<std::pair<std::string, std::string>>& records, int ttl_s,
             std::string* why);
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string hosts_file_;
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

}  // namespace msb::server
