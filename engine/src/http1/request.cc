#include "http1/request.h"

#include <charconv>

namespace msb::detail {

void build_request(std::string& out, Method method, const Url& url,
                   const std::string& extra_headers) {
  out.clear();
  out.reserve(96 + url.target.size() + url.host.size() + extra_headers.size());
  // append() throughout: GCC 12's -Wrestrict misfires on `"literal" + std::string` chains.
  out.append(method == Method::head ? "HEAD " : "GET ");
  out.append(url.target);
  out.append(" HTTP/1.1\r\nHost: ");
  if (url.ipv6_literal) out.push_back('[');
  out.append(url.host);
  if (url.ipv6_literal) out.push_back(']');
  if (url.port != 80) {
    char port[8];
    const auto end = std::to_chars(port, port + sizeof port, url.port).ptr;
    out.push_back(':');
    out.append(port, end);
  }
  out.append("\r\nUser-Agent: msbench/0.1\r\nAccept: */*\r\n");
  out.append(extra_headers);
  out.append("\r\n");
}

}  // namespace msb::detail
