// What a caller asks for (TransferSpec) and what it gets back when a transfer ends (Done).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "msb/result.h"

namespace msb {

// Identifies a transfer within one Multi. Never 0; never reused while the Multi lives.
using TransferId = std::uint64_t;

enum class Method : std::uint8_t { get, head };

// Receives body bytes as they arrive. Called from inside socket_action()/perform().
using DataSink = std::function<void(TransferId id, const char* data, std::size_t len)>;

inline constexpr std::uint32_t kDefaultTotalTimeoutMs = 10 * 60 * 1000;  // 10 minutes

struct TransferSpec {
  std::string url;  // http://host[:port][/path]; host may be [IPv6]
  Method method = Method::get;
  std::vector<std::string> headers;  // extra request headers, "Name: value"
  DataSink sink;                     // optional; without it body bytes are only counted
  void* user = nullptr;              // handed back in Done

  // Timeouts in milliseconds; 0 means none. Unlike curl, the total timeout is not "none" by
  // default: a silent server would hold the transfer (and its socket) forever.
  std::uint32_t connect_timeout_ms = 0;  // from start until the TCP handshake completes
  std::uint32_t total_timeout_ms = kDefaultTotalTimeoutMs;  // start until response complete
  // Low-speed limit: fail when fewer than low_speed_limit bytes/s arrive, averaged over each
  // window of low_speed_time_ms (curl's CURLOPT_LOW_SPEED_LIMIT/TIME). 0 disables.
  std::uint32_t low_speed_limit = 0;
  std::uint32_t low_speed_time_ms = 0;
};

// Which deadline ended a transfer with Result::timed_out.
enum class Expired : std::uint8_t { none, connect, total, low_speed };
const char* expired_name(Expired e);

// Microseconds from the transfer's start (its first step inside the engine).
struct Timings {
  std::int64_t resolve_us = -1;     // name resolved (or literal parsed)
  std::int64_t connect_us = -1;     // TCP handshake done (or cached connection taken)
  std::int64_t first_byte_us = -1;  // first response byte received
  std::int64_t total_us = -1;       // transfer ended, whatever the result
};

struct Done {
  TransferId id = 0;
  Result result = Result::ok;
  Expired expired = Expired::none;  // set when result == timed_out
  int os_error = 0;                 // errno behind couldnt_connect/socket_error/send/recv
  int http_status = 0;              // final status (after any 1xx), 0 if none was parsed
  std::uint64_t body_bytes = 0;     // body bytes delivered (decoded from chunked framing)
  std::uint64_t header_bytes = 0;   // bytes of status line and headers (all 1xx included)
  bool reused_connection = false;   // taken from the connection cache
  Timings timings;
  void* user = nullptr;
};

// What add() says: an id, or why the spec was refused.
struct AddResult {
  TransferId id = 0;
  Result error = Result::ok;
  std::string detail;  // human-readable reason when refused
  explicit operator bool() const { return id != 0; }
};

}  // namespace msb
