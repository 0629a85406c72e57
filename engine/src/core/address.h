// Socket addresses from IP literals.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace msb::detail {

struct ResolvedAddress {
  sockaddr_storage addr;
  socklen_t len;
};

// An IPv4 or IPv6 literal (no brackets) with `port`; nullopt if `text` is not one.
std::optional<ResolvedAddress> parse_ip(std::string_view text, std::uint16_t port);

// parse_ip() remembering the last host it was given: a benchmark's transfers name one or a
// few hosts, and inet_pton cost 240 instructions per connection (callgrind, gate workload).
class LastHostParse {
 public:
  // The address, valid until the next call; null if `host` is not an IP literal. Not a
  // copy: a ResolvedAddress is 136 bytes, and copying it twice cost 50 instructions per
  // connection (gate workload).
  const ResolvedAddress* parse(std::string_view host, std::uint16_t port);

 private:
  std::string host_;
  bool known_ = false;
  std::optional<ResolvedAddress> addr_;  // with the last port asked for
};

}  // namespace msb::detail
