// What a caller asks for (TransferSpec), what it hears of each response (Response), and
// what it gets back when a transfer ends (Done).
//
// A transfer is one request and its response, or a request loop on one connection: the
// same request `requests` times (0: until removed), `pipeline` of them written at once and
// then read, `think_time_ms` apart. A loop keeps its connection alive between requests and
// opens a new one when the server closes it; each response is reported through
// MultiOptions::response_fn as it completes, and the Done comes once, at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "msb/result.h"

namespace msb {

// Identifies a transfer within one Multi. Never 0; never reused while the Multi lives.
using TransferId = std::uint64_t;

// Receives body bytes as they arrive. Called from inside socket_action()/perform().
using DataSink = std::function<void(TransferId id, const char* data, std::size_t len)>;

inline constexpr std::uint32_t kDefaultTotalTimeoutMs = 10 * 60 * 1000;  // 10 minutes

struct TransferSpec {
  std::string url;                   // http[s]://host[:port][/path]; host may be [IPv6]
  std::string method = "GET";        // any token; a HEAD response has no body
  std::vector<std::string> headers;  // extra request headers, "Name: value"; a Host or
                                     // Content-Length given here replaces msbench's own
  // Sent after the headers with its Content-Length (POST, PUT and PATCH without one send
  // "Content-Length: 0"). Shared, so that a loop or many transfers send it without copies.
  std::shared_ptr<const std::string> body;
  DataSink sink;         // optional; without it body bytes are only counted
  void* user = nullptr;  // handed back in Done and Response

  // The request loop (see above). The defaults are one request on a connection that is
  // then kept for reuse by a later transfer to the same origin.
  std::uint32_t requests = 1;       // 0: until remove()
  std::uint32_t pipeline = 1;       // requests written before their responses are read
  std::uint32_t think_time_ms = 0;  // from a response to the next request
  bool reuse_connection = true;     // false: close it when the transfer ends
  // Connect from this local IP (bound with IP_BIND_ADDRESS_NO_PORT, so the port is still
  // chosen per destination at connect); "" lets the kernel choose.
  std::string source_address;

  // Timeouts in milliseconds; 0 means none. Unlike curl, the total timeout is not "none" by
  // default: a silent server would hold the transfer (and its socket) forever.
  std::uint32_t connect_timeout_ms = 0;  // from start until the TCP handshake completes
  // The connect timeout covers the TLS handshake too (as curl's CURLOPT_CONNECTTIMEOUT).
  // From the start until the response is complete; in a loop, from each response (or the
  // start) until the next one is.
  std::uint32_t total_timeout_ms = kDefaultTotalTimeoutMs;
  // Low-speed limit: fail when fewer than low_speed_limit bytes/s arrive, averaged over each
  // window of low_speed_time_ms (curl's CURLOPT_LOW_SPEED_LIMIT/TIME). 0 disables.
  std::uint32_t low_speed_limit = 0;
  std::uint32_t low_speed_time_ms = 0;
};

// One complete response of a transfer, reported as it completes (every response of a
// loop, and the only one of a single request). Times are on the Multi's clock, in ns.
struct Response {
  TransferId id = 0;
  void* user = nullptr;
  std::uint32_t index = 0;  // 0-based, within the transfer
  int http_status = 0;
  std::uint64_t body_bytes = 0;
  std::uint64_t header_bytes = 0;
  std::int64_t start_ns = 0;       // the transfer started (resolve and connect follow)
  std::int64_t sent_ns = 0;        // its request (or its batch, when pipelined) began to go out
  std::int64_t first_byte_ns = 0;  // its first byte arrived
  std::int64_t done_ns = 0;        // it was complete
  bool new_connection = false;     // its request went out on a connection opened for it
  std::int64_t connect_ns = 0;     // new_connection: from connect() to established
  std::int64_t tls_ns = 0;         // new_connection over TLS: the handshake, established to done
  bool tls_resumed = false;        // ... which resumed an earlier session (no full handshake)
};

// Which deadline ended a transfer with Result::timed_out.
// tls_handshake: the connect timeout, run out during the TLS handshake.
enum class Expired : std::uint8_t { none, connect, total, low_speed, tls_handshake };
const char* expired_name(Expired e);

// Microseconds from the transfer's start (its first step inside the engine).
struct Timings {
  std::int64_t resolve_us = -1;     // name resolved (or literal parsed)
  std::int64_t connect_us = -1;     // TCP handshake done (or cached connection taken)
  std::int64_t tls_us = -1;         // TLS handshake done (https; or cached connection taken)
  std::int64_t first_byte_us = -1;  // first response byte received
  std::int64_t total_us = -1;       // transfer ended, whatever the result
};

struct Done {
  TransferId id = 0;
  Result result = Result::ok;
  Expired expired = Expired::none;  // set when result == timed_out
  int os_error = 0;                 // errno behind couldnt_connect/socket_error/send/recv
  int http_status = 0;              // the last final status (after any 1xx), 0 if none was parsed
  std::uint32_t responses = 0;      // responses completed (a loop's; 1 for a single request)
  std::uint64_t body_bytes = 0;     // body bytes delivered (decoded from chunked), all responses
  std::uint64_t header_bytes = 0;   // bytes of status lines and headers (all 1xx included)
  bool reused_connection = false;   // the last request went out on a connection from the cache
  // Behind a tls_* result: OpenSSL's error code (ERR_get_error()) and the certificate
  // verification's (X509_V_ERR_*), 0 when none; tls_reason() puts them in words.
  unsigned long tls_error = 0;
  int tls_verify = 0;
  Timings timings;
  std::int64_t start_ns = 0;  // on the Multi's clock: the transfer started, and ended
  std::int64_t end_ns = 0;
  void* user = nullptr;
};

// OpenSSL's reason behind a tls_* result ("certificate verify failed: self-signed
// certificate", "wrong version number"); "" when the Done carries none.
std::string tls_reason(const Done& d);

// What add() says: an id, or why the spec was refused.
struct AddResult {
  TransferId id = 0;
  Result error = Result::ok;
  std::string detail;  // human-readable reason when refused
  explicit operator bool() const { return id != 0; }
};

}  // namespace msb
