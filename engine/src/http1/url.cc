#include "http1/url.h"

#include <algorithm>
#include <cctype>

namespace msb::detail {

namespace {

UrlParse fail(Result r, std::string detail) {
  UrlParse p;
  p.error = r;
  p.detail = std::move(detail);
  return p;
}

bool valid_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

std::string origin_of(const Url& url) {
  std::string o = url.host;
  o.push_back(':');
  o.append(std::to_string(url.port));
  if (url.tls) o.append("/tls");
  return o;
}

UrlParse parse_url(std::string_view text) {
  const std::string quoted = "'" + std::string(text.substr(0, 200)) + "'";
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return fail(Result::url_malformed, "no scheme:// in URL " + quoted);
  }
  std::string scheme(text.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (scheme != "http" && scheme != "https") {
    return fail(Result::unsupported_protocol,
                "scheme '" + scheme + "' is not supported (http or https) in URL " + quoted);
  }
  std::string_view rest = text.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);

  if (authority.find('@') != std::string_view::npos) {
    return fail(Result::url_malformed, "user info is not supported in URL " + quoted);
  }
  UrlParse out;
  Url& url = out.url;
  url.tls = scheme == "https";
  if (url.tls) url.port = 443;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return fail(Result::url_malformed, "unterminated [IPv6] host in URL " + quoted);
    }
    url.host = std::string(authority.substr(1, close - 1));
    url.ipv6_literal = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return fail(Result::url_malformed, "junk after [IPv6] host in URL " + quoted);
      }
      port_text = after.substr(1);
    }
    const bool hexcolon =
        !url.host.empty() && std::all_of(url.host.begin(), url.host.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        });
    if (!hexcolon) return fail(Result::url_malformed, "bad IPv6 literal in URL " + quoted);
  } else {
    const auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (url.host.empty()) return fail(Result::url_malformed, "empty host in URL " + quoted);
    if (!std::all_of(url.host.begin(), url.host.end(), valid_host_char)) {
      return fail(Result::url_malformed, "bad character in host of URL " + quoted);
    }
  }
  if (!port_text.empty() || (authority.size() && authority.back() == ':')) {
    unsigned long port = 0;
    if (port_text.empty() || port_text.size() > 5) {
      return fail(Result::url_malformed, "bad port in URL " + quoted);
    }
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        return fail(Result::url_malformed, "bad port in URL " + quoted);
      }
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) {
      return fail(Result::url_malformed, "port out of range in URL " + quoted);
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  const auto fragment = target.find('#');
  if (fragment != std::string_view::npos) target = target.substr(0, fragment);
  if (target.empty() || target.front() == '?') {
    url.target = "/" + std::string(target);
  } else {
    url.target = std::string(target);
  }
  for (char c : url.target) {
    // A request target with controls or spaces would let a URL inject header lines.
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail(Result::url_malformed, "control character or space in path of URL " + quoted);
    }
  }
  return out;
}

}  // namespace msb::detail
