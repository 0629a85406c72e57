// The HTTP/1.1 request text a transfer sends.
#pragma once

#include <string>

#include "http1/url.h"
#include "msb/transfer.h"

namespace msb::detail {

// Replaces `out` with the request line, Host (with the port unless it is 80), the fixed
// User-Agent and Accept, `extra_headers` (preformatted "Name: value\r\n" lines) and the
// blank line.
void build_request(std::string& out, Method method, const Url& url,
                   const std::string& extra_headers);

}  // namespace msb::detail
