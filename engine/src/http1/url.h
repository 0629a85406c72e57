// The http:// URLs the engine accepts: http://host[:port][/path][?query], host a name, an
// IPv4 literal or a bracketed IPv6 literal. No userinfo, no fragment sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "msb/result.h"

namespace msb::detail {

struct Url {
  std::string host;  // without brackets
  std::uint16_t port = 80;
  std::string target;  // path and query, at least "/"
  bool ipv6_literal = false;
};

struct UrlParse {
  Result error = Result::ok;  // url_malformed or unsupported_protocol
  std::string detail;
  Url url;
};

UrlParse parse_url(std::string_view text);

}  // namespace msb::detail
