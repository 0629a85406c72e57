// The built-in server: an event-driven (epoll) HTTP/1.1 server for loopback tests,
// scenarios and sustained load, holding many mostly idle connections cheaply.
//
// What it sends is chosen by the request path (routes(), printed by `msbench serve --help`):
// bodies of any size are generated as the socket takes them, never built in memory; body
// byte i is 'a' + i % 26, so a client can check content, not only length. Requests are
// read as RFC 9112 asks of a server (request_parser.h): request bodies (Content-Length or
// chunked) are consumed and discarded, pipelined requests are answered in order, HTTP/1.0
// keeps the connection with "Connection: keep-alive", and what cannot be framed is answered
// 400/413/414/431/501/505 and the connection closed, while every other connection carries
// on. Faults (faults.h) have paths of their own. https:// listeners (tls_port_count) serve
// the same paths over TLS (tls_certificate.h), handshakes driven by the same epoll loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "tls_certificate.h"

namespace msb::server {

struct ServerOptions {
  std::vector<std::string> addresses{"127.0.0.1"};  // IPv4 or IPv6 literals
  std::uint16_t first_port = 0;                     // 0: one ephemeral port per address
  int port_count = 1;  // ports first_port .. first_port + port_count - 1
  // https:// ports per address, after the plain ones (first_port + port_count ...), with
  // this key and certificate (make_self_signed() makes a pair). With them, one more
  // ephemeral port on the first address per TLS fault (faults.h, kind tls), whose endpoint
  // names the fault.
  int tls_port_count = 0;
  TlsFiles tls;
  int backlog = 4096;
  long fd_limit = 0;  // ServerProcess only: the child's open-files limit (0: the hard limit)
  // ServerProcess only: the child's address-space limit in bytes (0: none), to show that no
  // response is ever built in memory.
  std::uint64_t address_space_limit = 0;
};

struct ServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t requests = 0;            // requests read whole (and answered, or being)
  std::uint64_t bad_requests = 0;        // answered 4xx/5xx by the parser, then closed
  std::uint64_t request_body_bytes = 0;  // request body bytes consumed
  std::uint64_t body_bytes_sent = 0;
  std::uint64_t open = 0;
  std::uint64_t dropped = 0;               // connections accepted and closed at once: out of fds
  std::uint64_t tls_handshakes = 0;        // completed
  std::uint64_t tls_resumed = 0;           // of those, resumed sessions
  std::uint64_t tls_handshake_failed = 0;  // closed before the handshake completed
};

// One line of the server's paths, for `msbench serve --help` and the README.
struct Route {
  const char* path;
  const char* what;
};
const std::vector<Route>& routes();

struct Endpoint {
  std::string address;
  std::uint16_t port;
  bool tls = false;
  std::string fault;  // a TLS fault's listener: its name (not for ordinary requests)
  std::string url(const std::string& path) const;  // http[s]://address:port/path
};

class TrickleServer {
 public:
  // Binds and listens on every endpoint; throws std::runtime_error naming the one that
  // failed.
  explicit TrickleServer(ServerOptions options);
  ~TrickleServer();
  TrickleServer(const TrickleServer&) = delete;
  TrickleServer& operator=(const TrickleServer&) = delete;

  const std::vector<Endpoint>& endpoints() const { return endpoints_; }

  // Serves until request_stop() (callable from any thread or a signal handler).
  void run();
  void request_stop();
  // run() on a thread of its own; stop_thread() ends and joins it.
  void start_thread();
  void stop_thread();

  ServerStats stats() const;

  struct Impl;

 private:
  std::vector<Endpoint> endpoints_;
  Impl* impl_;
  std::thread thread_;
};

}  // namespace msb::server
