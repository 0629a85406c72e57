// The URLs the engine accepts: http[s]://host[:port][/path][?query], host a name, an IPv4
// literal or a bracketed IPv6 literal. No userinfo, no fragment sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "msb/result.h"

namespace msb::detail {

struct Url {
  std::string host;         // without brackets
  std::uint16_t port = 80;  // 443 for https
  std::string target;       // path and query, at least "/"
  bool ipv6_literal = false;
  bool tls = false;  // https
};

struct UrlParse {
  Result error = Result::ok;  // url_malformed or unsupported_protocol
  std::string detail;
  Url url;
};

UrlParse parse_url(std::string_view text);

// "host:port", and "host:port/tls" for https:// (never the same connection): the key of the
// connection cache and of TLS sessions.
std::string origin_of(const Url& url);

}  // namespace msb::detail
