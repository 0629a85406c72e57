// The HTTP/1.1 request text a transfer sends.
#pragma once

#include <cstdint>
#include <memory>
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

// The text of the last plain request built (a GET or HEAD with no body), shared by every
// transfer that sends the same: a benchmark's transfers mostly do, and building the text per
// transfer (formatting it, allocating it, freeing it once sent) cost ~600 instructions each
// (callgrind, gate workload).
class SharedRequestText {
 public:
  // May throw std::bad_alloc (building a new text); then nothing is remembered.
  std::shared_ptr<const std::string> get(const Url& url, bool head, std::string_view extra);

 private:
  Url url_;  // the target and Host: what the text was built from, with head_ and extra_
  bool head_ = false;
  std::string extra_;
  std::shared_ptr<const std::string> text_;
};

// Whether a request with this method and no body still says "Content-Length: 0" (RFC 9110
// §8.6: a method that defines a meaning for content).
bool method_expects_content(std::string_view method);

// Whether `name` (a header's name) is `want`, ignoring ASCII case.
bool header_is(std::string_view line, std::string_view want);

}  // namespace msb::detail
