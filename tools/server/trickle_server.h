// The built-in trickle server: an event-driven (epoll) HTTP/1.1 server for loopback tests
// and scenarios, holding many mostly idle connections cheaply.
//
// What it sends is chosen by the request path, so one server serves every test:
//   /bytes/N                 200, Content-Length N, sent at once
//   /chunked/N[/C]           200, chunked, N bytes in chunks of C (default 1000)
//   /close/N                 200, no length, N bytes, then close (HTTP/1.0 style)
//   /trickle/N/MS[/C]        200, Content-Length N, C bytes (default 1) every MS ms
//   /idle                    200 headers with Content-Length 2^40, then nothing
//   /silent                  reads the request, never answers
//   /status/S                status S with an empty body
//   /fault/reset             reads the request, then resets the connection (RST)
//   /fault/close_early       promises 1000 bytes, sends 10, closes
//   /fault/garbage           answers "GARBAGE" instead of a status line, closes
//   /fault/stall             sends half a header line, then nothing
//   /fault/reset_mid_body    promises 1000 bytes, sends 10, resets (RST)
//   /fault/close_no_reply    reads the request, closes without a byte
//   /fault/close_in_headers  sends half the headers, closes
//   /fault/huge_headers      a 200 whose headers run past 1 MiB
//   /fault/drip_chunked      a chunked body whose framing arrives one byte every 2 ms
//   /fault/noread            stops reading once it has seen the request line: a large
//                            request then fills the socket buffers and blocks the sender
// HEAD gets the headers only. Connections are kept alive unless the client says close.
// Body byte i is 'a' + i % 26, so a client can check content, not only length.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace msb::server {

struct ServerOptions {
  std::vector<std::string> addresses{"127.0.0.1"};  // IPv4 or IPv6 literals
  std::uint16_t first_port = 0;                     // 0: one ephemeral port per address
  int port_count = 1;  // ports first_port .. first_port + port_count - 1
  int backlog = 4096;
  long fd_limit = 0;  // ServerProcess only: the child's open-files limit (0: the hard limit)
};

struct ServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t requests = 0;
  std::uint64_t body_bytes_sent = 0;
  std::uint64_t open = 0;
  std::uint64_t dropped = 0;  // connections accepted and closed at once: out of fds
};

struct Endpoint {
  std::string address;
  std::uint16_t port;
  std::string url(const std::string& path) const;  // http://address:port/path
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
