// How a connection's bytes go out and come in: the seam between the HTTP state machine and
// the wire. Plain TCP passes straight through SysCalls; TLS sits behind the same interface.
//
// The point of the seam is that a transport can need the socket watched for something
// else than HTTP asks for: a TLS read may need the socket writable (a key update), a TLS
// handshake alternates. So every call that cannot finish says what it waits for (`want`),
// and the engine watches exactly that, through the socket callback, only when it changes.
// A transport may also hold bytes already read from the socket (TLS records decrypted
// ahead): a recv's `more` says so, since no poll will ever announce them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "msb/result.h"

namespace msb::detail {

struct Connection;

struct IoResult {
  enum Status : std::uint8_t {
    done,   // send/recv: n bytes moved; start: ready for HTTP
    again,  // would block: watch the socket for `want`, then call again
    eof,    // recv: the peer closed the connection (cleanly, for TLS)
    error,  // err is the errno (or 0), code the result the transfer ends with (ok: the
            // caller's own, send_error or recv_error)
  };
  Status status = done;
  std::uint8_t want = 0;  // again: kPollIn or kPollOut
  Result code = Result::ok;
  // recv done: the transport holds more bytes already (TLS records read ahead), which no
  // poll will announce: call recv again before waiting. (Fits the padding: IoResult stays
  // 16 bytes, returned in registers on the per-event path.)
  bool more = false;
  int err = 0;
  std::size_t n = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Once the TCP connection is up: whatever the transport does before HTTP may start (the
  // TLS handshake), called again on every event until done. Plain TCP never needs it.
  virtual IoResult start(Connection& c) = 0;
  // `fd` is c.fd, passed by callers that have it at hand so that plain TCP never touches
  // the (cold) Connection on the per-event path.
  virtual IoResult send(Connection& c, int fd, const char* data, std::size_t len) = 0;
  virtual IoResult recv(Connection& c, int fd, char* buf, std::size_t len) = 0;
  // Whether an idle connection taken from the cache can carry a request: not closed by the
  // peer, and nothing unexpected waiting on it.
  virtual bool reusable(Connection& c) = 0;
  // Closes the socket, after what a clean shutdown needs (TLS: close_notify).
  virtual void close(Connection& c) = 0;
};

}  // namespace msb::detail
