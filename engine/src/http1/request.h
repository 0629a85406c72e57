// The HTTP/1.1 request text a transfer sends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http1/url.h"

namespace msb::detail {

struct RequestHead {
  std::string_view method;  // "" for GET
  const Url* url = nullptr;
  std::string_view extra_headers;    // preformatted "Name: value\r\n" lines
  bool has_host = false;             // extra_headers carry a Host: msbench's is left out
  bool has_length = false;           // ... a Content-Length or Transfer-Encoding
  std::int64_t content_length = -1;  // >= 0: a Content-Length to send (unless has_length)
};

// Appends the request line, Host (with the port unless it is 80), the fixed User-Agent and
// Accept, Content-Length, the extra headers and the blank line.
void append_request_head(std::string& out, const RequestHead& head);

// Whether a request with this method and no body still says "Content-Length: 0" (RFC 9110
// §8.6: a method that defines a meaning for content).
bool method_expects_content(std::string_view method);

// Whether `name` (a header's name) is `want`, ignoring ASCII case.
bool header_is(std::string_view line, std::string_view want);

}  // namespace msb::detail
