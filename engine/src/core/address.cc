#include "core/address.h"

#include <arpa/inet.h>

#include <new>
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

const ResolvedAddress* LastHostParse::parse(std::string_view host, std::uint16_t port) {
  if (!known_ || host != host_) {
    known_ = false;
    addr_ = parse_ip(host, 0);
    try {
      host_.assign(host);
      known_ = true;
    } catch (const std::bad_alloc&) {  // not remembered, nothing else lost
    }
  }
  if (!addr_) return nullptr;
  // sin_port and sin6_port sit at the same offset.
  reinterpret_cast<sockaddr_in*>(&addr_->addr)->sin_port = htons(port);
  return &*addr_;
}

}  // namespace msb::detail
