#include "core/address.h"

#include <arpa/inet.h>

#include <string>

namespace msb::detail {

std::optional<ResolvedAddress> parse_ip(std::string_view text, std::uint16_t port) {
  const std::string s(text);  // inet_pton wants a terminated string
  ResolvedAddress a{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&a.addr);
  if (inet_pton(AF_INET, s.c_str(), &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    a.len = sizeof(sockaddr_in);
    return a;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.addr);
  if (inet_pton(AF_INET6, s.c_str(), &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    a.len = sizeof(sockaddr_in6);
    return a;
  }
  return std::nullopt;
}

}  // namespace msb::detail
