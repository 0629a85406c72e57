#include "http1/request.h"

#include <charconv>

#include "msb/http_syntax.h"

namespace msb::detail {

namespace {

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}
}  // namespace

bool header_is(std::string_view line, std::string_view want) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view name = line.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  return iequals(name, want);
}

std::shared_ptr<const std::string> SharedRequestText::get(const Url& url, bool head,
                                                          std::string_view extra) {
  if (text_ && head == head_ && url.port == url_.port && url.target == url_.target &&
      url.host == url_.host && url.ipv6_literal == url_.ipv6_literal && extra == extra_) {
    return text_;
  }
  text_.reset();
  RequestHead h;
  h.url = &url;
  h.method = head ? "HEAD" : "";
  h.extra_headers = extra;
  std::string text;
  append_request_head(text, h);
  auto shared = std::make_shared<const std::string>(std::move(text));
  url_ = url;
  head_ = head;
  extra_.assign(extra);
  text_ = shared;
  return shared;
}

bool method_expects_content(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

void append_request_head(std::string& out, const RequestHead& h) {
  const Url& url = *h.url;
  out.reserve(out.size() + 112 + url.target.size() + url.host.size() + h.extra_headers.size());
  // append() throughout: GCC 12's -Wrestrict misfires on `"literal" + std::string` chains.
  out.append(h.method.empty() ? std::string_view("GET") : h.method);
  out.push_back(' ');
  out.append(url.target);
  out.append(" HTTP/1.1\r\n");
  if (!h.has_host) {
    out.append("Host: ");
    if (url.ipv6_literal) out.push_back('[');
    out.append(url.host);
    if (url.ipv6_literal) out.push_back(']');
    if (url.port != 80) {
      out.push_back(':');
      append_number(out, url.port);
    }
    out.append("\r\n");
  }
  out.append("User-Agent: msbench/0.1\r\nAccept: */*\r\n");
  if (h.content_length >= 0 && !h.has_length) {
    out.append("Content-Length: ");
    append_number(out, static_cast<std::uint64_t>(h.content_length));
    out.append("\r\n");
  }
  out.append(h.extra_headers);
  out.append("\r\n");
}

}  // namespace msb::detail
