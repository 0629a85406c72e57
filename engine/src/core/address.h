// Socket addresses from IP literals.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace msb::detail {

struct ResolvedAddress {
  sockaddr_storage addr;
  socklen_t len;
};

// An IPv4 or IPv6 literal (no brackets) with `port`; nullopt if `text` is not one.
std::optional<ResolvedAddress> parse_ip(std::string_view text, std::uint16_t port);

}  // namespace msb::detail
