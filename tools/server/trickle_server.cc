#include "trickle_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <queue>
#include <stdexcept>

#include "faults.h"
#include "request_parser.h"

namespace msb::server {

const std::vector<Route>& routes() {
  static const std::vector<Route> r = {
      {"/bytes/N", "200, Content-Length N, N bytes generated as the socket takes them"},
      {"/chunked/N[/C]", "200, chunked: N bytes in chunks of C (default 1000)"},
      {"/close/N", "200 without a length: N bytes, then close (HTTP/1.0 style)"},
      {"/delay/MS[/N]", "waits MS ms, then 200 with N bytes (default 0)"},
      {"/status/S[/N]", "status S (100-999) with N bytes (default 0; none for 1xx, 204, 304)"},
      {"/trickle/N/MS[/C]", "200, Content-Length N, C bytes (default 1) every MS ms"},
      {"/idle", "200 headers with Content-Length 2^40, then nothing"},
      {"/key_update/N", "https: a TLS 1.3 KeyUpdate asking for the client's, then /bytes/N"},
      {"/silent", "reads the request, never answers"},
      {"/fault/NAME", "misbehaves as fault NAME says (msbench keys --values fault)"},
      {"anything else", "404, empty body"},
  };
  return r;
}

namespace {

std::int64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// Bytes generated for the socket at a time: enough for a full send() per writable event,
// little enough that a million connections' output never adds up.
constexpr std::size_t kFillBytes = 64 * 1024;
// Pipelined requests read ahead of the response in progress, at most; past this the
// connection is not read until the response is out.
constexpr std::size_t kMaxReadAhead = 256 * 1024;

// The body pattern 'a'..'z', long enough that any stretch of up to kFillBytes starting at
// any offset mod 26 is one slice of it.
const std::string& pattern() {
  static const std::string p = [] {
    std::string s(kFillBytes + 26, 'a');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
  }();
  return p;
}

// The huge_headers fault's reply: over 1 MiB of header lines. Built once, when the server
// starts: built per connection, it queued the faulty connections behind each other in the
// server, which showed up as the engine's time to surface the fault (scenario oversized,
// p50 over 19 connections: 67-75 ms on select/poll, 13-16 ms on the others; built once:
// 6-8 ms on all five).
const std::string& huge_headers_reply() {
  static const std::string reply = [] {
    std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
    for (int i = 0; i < 1024; ++i) {
      r += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'h') + "\r\n";
    }
    return r + "\r\n";
  }();
  return reply;
}

// Numbers in a path: "/delay/5/100" -> {5, 100}; false if a segment is not a number.
bool path_numbers(std::string_view rest, std::uint64_t* out, int max, int* count) {
  *count = 0;
  while (!rest.empty() && *count < max) {
    const auto slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), n);
    if (ec != std::errc() || end != seg.data() + seg.size() || seg.empty()) return false;
    out[(*count)++] = n;
    if (slash == std::string_view::npos) return true;
    rest.remove_prefix(slash + 1);
  }
  return rest.empty();
}

const char* reason_for(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Status";
  }
}

// What a response sends after its head.
enum class Body : std::uint8_t {
  none,     // complete with its head
  fixed,    // body_left bytes (Content-Length, or until close)
  chunked,  // body_left bytes in chunks of `chunk`, then the last chunk
  trickle,  // `chunk` bytes every interval_ms, body_left in all
  drip,     // `drip` one byte every interval_ms
  delay,    // nothing until interval_ms passed, then `fixed` (head queued then)
  forever,  // nothing, ever (idle, stall)
};

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;        // on an https:// listener's connection
  bool handshaking = false;  // ... until its handshake is done
  bool tls_broken = false;   // a fatal TLS error: no close_notify
  // A TLS fault's listener: what it does instead of a handshake (garbage, reset), or
  // nothing at all (stall).
  enum class PreTls : std::uint8_t { none, garbage, reset } pre_tls = PreTls::none;
  std::uint32_t generation = 0;
  RequestParser parser;
  std::string in;  // bytes read and not yet parsed: the next pipelined requests
  std::size_t in_off = 0;
  std::string out;  // bytes waiting for the socket
  std::size_t out_off = 0;
  // The response in progress.
  bool responding = false;
  bool close_after = false;  // close once the response is out
  bool silent = false;       // never answers: reads and drops
  bool reset = false;        // close with RST instead of FIN
  bool reading = true;       // EPOLLIN wanted
  bool noread = false;       // the noread fault: never read again
  std::uint32_t events = 0;  // what epoll watches now
  Body body = Body::none;
  bool last_chunk_sent = false;
  std::uint64_t body_left = 0;
  std::uint64_t body_pos = 0;
  std::uint32_t chunk = 1;
  std::uint32_t interval_ms = 0;
  std::string delayed_head;  // Body::delay: the head, queued when the delay ends
  std::string drip;
  std::size_t drip_off = 0;
};

struct TimerEntry {
  std::int64_t when;
  int fd;
  std::uint32_t generation;
  bool operator>(const TimerEntry& o) const { return when > o.when; }
};

}  // namespace

struct TrickleServer::Impl {
  int epfd = -1;
  int wake_fd = -1;
  // Held in reserve for EMFILE: a level-triggered listener with a connection it cannot
  // accept would otherwise fire forever (the server would spin).
  int spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<int> listeners;
  // By listener: what its connections get.
  struct Role {
    bool tls = false;
    SSL_CTX* ctx = nullptr;  // tls: the certificate it presents (tls_ctx, or a fault's)
    Conn::PreTls pre_tls = Conn::PreTls::none;
    bool stall = false;  // never read: the handshake is never answered
  };
  std::vector<Role> roles;
  SSL_CTX* tls_ctx = nullptr;
  SSL_CTX* wrong_name_ctx = nullptr;
  SSL_CTX* untrusted_ctx = nullptr;
  std::vector<std::unique_ptr<Conn>> conns;  // by fd
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers;
  std::atomic<bool> stop{false};
  std::uint32_t next_generation = 1;
  // Counted by the serving thread, read by any: relaxed atomics, no lock per request.
  std::atomic<std::uint64_t> accepted{0}, requests{0}, bad_requests{0}, request_body_bytes{0},
      body_bytes_sent{0}, open{0}, dropped{0}, tls_handshakes{0}, tls_resumed{0},
      tls_handshake_failed{0};

  ~Impl() {
    for (auto& c : conns) {
      if (!c) continue;
      SSL_free(c->ssl);
      ::close(c->fd);
    }
    SSL_CTX_free(tls_ctx);
    SSL_CTX_free(wrong_name_ctx);
    SSL_CTX_free(untrusted_ctx);
    for (int l : listeners) ::close(l);
    if (wake_fd >= 0) ::close(wake_fd);
    if (spare_fd >= 0) ::close(spare_fd);
    if (epfd >= 0) ::close(epfd);
  }

  static void add(std::atomic<std::uint64_t>& n, std::uint64_t v) {
    n.store(n.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  }

  void set_events(Conn& c, std::uint32_t ev, int op = EPOLL_CTL_MOD) {
    if (op == EPOLL_CTL_MOD && ev == c.events) return;  // one syscall saved per request
    c.events = ev;
    epoll_event e{};
    e.events = ev;
    e.data.fd = c.fd;
    epoll_ctl(epfd, op, c.fd, &e);
  }

  void close_conn(int fd) {
    if (fd < 0 || static_cast<std::size_t>(fd) >= conns.size() || !conns[fd]) return;
    Conn& c = *conns[fd];
    if (c.reset) {
      const linger l{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    if (c.ssl) {
      if (c.handshaking) add(tls_handshake_failed, 1);
      // close_notify first, unless the close is to look like a crash (reset).
      if (!c.reset && !c.handshaking && !c.tls_broken) SSL_shutdown(c.ssl);
      ERR_clear_error();
      SSL_free(c.ssl);
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns[fd].reset();
    open.fetch_sub(1, std::memory_order_relaxed);
  }

  void accept_all(int listener, const Role& role) {
    for (int i = 0; i < 256; ++i) {
      const int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
          // Out of descriptors: free the spare, take the connection off the queue and
          // drop it, keep the spare again. The client sees its connection closed.
          ::close(spare_fd);
          const int dropped_fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
          if (dropped_fd >= 0) ::close(dropped_fd);
          spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
          add(dropped, 1);
          continue;
        }
        return;  // EAGAIN: nothing more to accept now
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (static_cast<std::size_t>(fd) >= conns.size()) conns.resize(fd * 2 + 1);
      conns[fd] = std::make_unique<Conn>();
      conns[fd]->fd = fd;
      conns[fd]->generation = next_generation++;
      if (role.ctx) {
        SSL* ssl = SSL_new(role.ctx);
        if (!ssl || SSL_set_fd(ssl, fd) != 1) {
          SSL_free(ssl);
          ERR_clear_error();
          ::close(fd);
          conns[fd].reset();
          add(dropped, 1);
          continue;
        }
        SSL_set_accept_state(ssl);
        conns[fd]->ssl = ssl;
        conns[fd]->handshaking = true;
      }
      conns[fd]->pre_tls = role.pre_tls;
      set_events(*conns[fd], role.stall ? 0u : EPOLLIN, EPOLL_CTL_ADD);
      add(accepted, 1);
      add(open, 1);
    }
  }

  // ------------------------------------------------------------ TLS

  // The connection's bytes, through TLS on an https:// listener's: both return what
  // send()/recv() would (n; 0 at the peer's end, close_notify or FIN; -1 with errno, EAGAIN
  // to wait), so the HTTP side does not know which it has.
  ssize_t write_out(Conn& c, const char* data, std::size_t len) {
    if (!c.ssl) return ::send(c.fd, data, len, MSG_NOSIGNAL);
    std::size_t n = 0;
    if (SSL_write_ex(c.ssl, data, len, &n) == 1) return static_cast<ssize_t>(n);
    return tls_failed(c, SSL_get_error(c.ssl, 0));
  }

  ssize_t read_in(Conn& c, char* buf, std::size_t len) {
    if (!c.ssl) return ::recv(c.fd, buf, len, 0);
    std::size_t n = 0;
    if (SSL_read_ex(c.ssl, buf, len, &n) == 1) return static_cast<ssize_t>(n);
    const int e = SSL_get_error(c.ssl, 0);
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    return tls_failed(c, e);
  }

  static ssize_t tls_failed(Conn& c, int e) {
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      errno = EAGAIN;
    } else {
      c.tls_broken = true;
      errno = EPROTO;
    }
    return -1;
  }

  // The TLS faults that never start a handshake: the ClientHello is read, then answered
  // with bytes that are not TLS, or with a reset.
  void answer_client_hello(Conn& c) {
    char buf[4096];
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n > 0 && c.pre_tls == Conn::PreTls::garbage) {
      static const char kGarbage[] = "GARBAGE\r\n\r\n";
      [[maybe_unused]] const ssize_t w = ::send(c.fd, kGarbage, sizeof kGarbage - 1, MSG_NOSIGNAL);
    }
    c.reset = c.pre_tls == Conn::PreTls::reset;
    close_conn(c.fd);
  }

  // One step of the server's handshake; once done, the request may already be waiting
  // (a client sends it right after its Finished).
  void handshake(Conn& c) {
    const int r = SSL_do_handshake(c.ssl);
    if (r == 1) {
      c.handshaking = false;
      add(tls_handshakes, 1);
      if (SSL_session_reused(c.ssl)) add(tls_resumed, 1);
      set_events(c, EPOLLIN);
      return on_readable(c);
    }
    const int e = SSL_get_error(c.ssl, r);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ) return set_events(c, EPOLLIN);
    if (e == SSL_ERROR_WANT_WRITE) return set_events(c, EPOLLIN | EPOLLOUT);
    c.tls_broken = true;
    close_conn(c.fd);
  }

  // ------------------------------------------------------------ generating the body

  void append_pattern(Conn& c, std::uint64_t n) {
    c.out.append(pattern(), c.body_pos % 26, n);
    c.body_pos += n;
    c.body_left -= n;
    add(body_bytes_sent, n);
  }

  // Tops up the output with generated body bytes, up to kFillBytes waiting.
  void fill(Conn& c) {
    const std::size_t waiting = c.out.size() - c.out_off;
    if (waiting >= kFillBytes) return;
    std::size_t room = kFillBytes - waiting;
    if (c.body == Body::fixed && c.body_left) {
      append_pattern(c, std::min<std::uint64_t>(c.body_left, room));
    } else if (c.body == Body::chunked) {
      while (room > 32 && (c.body_left || !c.last_chunk_sent)) {
        if (!c.body_left) {
          c.out += "0\r\n\r\n";
          c.last_chunk_sent = true;
          break;
        }
        const auto k = std::min<std::uint64_t>({c.chunk, c.body_left, room - 24});
        char size[24];
        const int len =
            std::snprintf(size, sizeof size, "%llx\r\n", static_cast<unsigned long long>(k));
        c.out.append(size, static_cast<std::size_t>(len));
        append_pattern(c, k);
        c.out += "\r\n";
        room = kFillBytes - (c.out.size() - c.out_off);
      }
    }
  }

  bool response_complete(const Conn& c) const {
    switch (c.body) {
      case Body::none:
        return true;
      case Body::fixed:
      case Body::trickle:
        return c.body_left == 0;
      case Body::chunked:
        return c.last_chunk_sent;
      case Body::drip:
        return c.drip.empty();
      case Body::delay:
      case Body::forever:
        return false;
    }
    return false;
  }

  // Writes what is queued and what can be generated, and ends the response once it is all
  // out; false if the connection was closed. The caller then reads the next request.
  bool flush(Conn& c) {
    for (;;) {
      fill(c);
      if (c.out_off == c.out.size()) break;
      const ssize_t n = write_out(c, c.out.data() + c.out_off, c.out.size() - c.out_off);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          set_events(c, (c.reading ? EPOLLIN : 0u) | EPOLLOUT);
          return true;
        }
        close_conn(c.fd);
        return false;
      }
      c.out_off += static_cast<std::size_t>(n);
      if (c.out_off == c.out.size()) {
        c.out.clear();
        c.out_off = 0;
      }
    }
    set_events(c, c.reading ? EPOLLIN : 0u);
    if (c.responding && response_complete(c)) {
      c.responding = false;
      c.body = Body::none;
      if (c.close_after) {
        close_conn(c.fd);
        return false;
      }
    }
    return true;
  }

  // After a flush: once the response is out, read again if reading waited for it, and
  // answer what is buffered. False if the connection closed.
  bool next_request(Conn& c) {
    if (c.responding) return true;
    if (!c.reading && !c.noread && !c.close_after) {
      c.reading = true;
      set_events(c, EPOLLIN);
    }
    return process(c);
  }

  // ------------------------------------------------------------ answering

  void head(Conn& c, int status, const char* length_header, bool keep_alive, bool http11) {
    c.out += "HTTP/1.1 ";
    c.out += std::to_string(status);
    c.out += ' ';
    c.out += reason_for(status);
    c.out += "\r\n";
    if (length_header) c.out += length_header;
    if (!keep_alive) {
      c.out += "Connection: close\r\n";
    } else if (!http11) {
      c.out += "Connection: keep-alive\r\n";
    }
    c.out += "\r\n";
  }

  static std::string length_line(std::uint64_t n) {
    return "Content-Length: " + std::to_string(n) + "\r\n";
  }

  // Starts the response to a whole request.
  void respond(Conn& c, const Request& req) {
    const bool head_only = req.method == "HEAD";
    const bool keep = req.keep_alive;
    c.responding = true;
    c.close_after = !keep;
    c.body = Body::none;
    c.body_pos = c.body_left = 0;
    c.last_chunk_sent = false;
    std::string_view path = req.target;
    if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
    std::uint64_t n[3] = {0, 0, 0};
    int count = 0;
    auto numbers = [&](std::string_view prefix, int max) {
      return path.rfind(prefix, 0) == 0 && path_numbers(path.substr(prefix.size()), n, max, &count);
    };
    if (numbers("/bytes/", 1) && count == 1) {
      head(c, 200, length_line(n[0]).c_str(), keep, req.http11);
      if (!head_only) begin_fixed(c, n[0]);
    } else if (numbers("/key_update/", 1) && count == 1) {
      // Sent before the next record: the client must answer with its own KeyUpdate, a write
      // in the middle of its read (TLS 1.3 only; over TLS 1.2 and plain HTTP, /bytes/N).
      if (c.ssl && SSL_version(c.ssl) == TLS1_3_VERSION) {
        SSL_key_update(c.ssl, SSL_KEY_UPDATE_REQUESTED);
        ERR_clear_error();
      }
      head(c, 200, length_line(n[0]).c_str(), keep, req.http11);
      if (!head_only) begin_fixed(c, n[0]);
    } else if (numbers("/chunked/", 2) && count >= 1) {
      head(c, 200, "Transfer-Encoding: chunked\r\n", keep, req.http11);
      if (!head_only) {
        c.body = Body::chunked;
        c.body_left = n[0];
        c.chunk = static_cast<std::uint32_t>(
            count == 2 && n[1] ? std::min<std::uint64_t>(n[1], kFillBytes) : 1000);
      }
    } else if (numbers("/close/", 1) && count == 1) {
      head(c, 200, nullptr, false, req.http11);
      c.close_after = true;
      if (!head_only) begin_fixed(c, n[0]);
    } else if (numbers("/delay/", 2) && count >= 1) {
      const std::uint64_t bytes = count == 2 ? n[1] : 0;
      std::string saved;
      saved.swap(c.out);
      head(c, 200, length_line(bytes).c_str(), keep, req.http11);
      c.delayed_head.swap(c.out);
      c.out.swap(saved);
      c.body = Body::delay;
      c.body_left = head_only ? 0 : bytes;
      c.interval_ms = static_cast<std::uint32_t>(std::min<std::uint64_t>(n[0], 3'600'000));
      timers.push({now_ms() + c.interval_ms, c.fd, c.generation});
    } else if (numbers("/status/", 2) && count >= 1 && n[0] >= 100 && n[0] <= 999) {
      const int status = static_cast<int>(n[0]);
      const bool bodiless = status < 200 || status == 204 || status == 304;
      const std::uint64_t bytes = bodiless ? 0 : (count == 2 ? n[1] : 0);
      head(c, status, bodiless ? nullptr : length_line(bytes).c_str(), keep, req.http11);
      if (!head_only) begin_fixed(c, bytes);
    } else if (numbers("/trickle/", 3) && count >= 2) {
      head(c, 200, length_line(n[0]).c_str(), keep, req.http11);
      if (!head_only && n[0]) {
        c.body = Body::trickle;
        c.body_left = n[0];
        c.interval_ms = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(n[1], 1, 3'600'000));
        c.chunk = static_cast<std::uint32_t>(
            count == 3 ? std::clamp<std::uint64_t>(n[2], 1, kFillBytes) : 1);
        timers.push({now_ms() + c.interval_ms, c.fd, c.generation});
      }
    } else if (path == "/idle") {
      c.out += "HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n";
      c.body = Body::forever;  // never sent: the connection stays busy until closed
    } else if (path == "/silent") {
      c.silent = true;
      c.body = Body::forever;
    } else if (const Fault* f = path.rfind("/fault/", 0) == 0
                                    ? find_fault(std::string(path.substr(7)))
                                    : nullptr;
               f && f->kind == FaultKind::server) {
      respond_fault(c, *f, keep, req.http11);
    } else {
      head(c, 404, "Content-Length: 0\r\n", keep, req.http11);
    }
  }

  void begin_fixed(Conn& c, std::uint64_t bytes) {
    c.body = Body::fixed;
    c.body_left = bytes;
  }

  void respond_fault(Conn& c, const Fault& f, bool keep, bool http11) {
    const std::string name = f.name;
    if (name == "reset") {
      c.reset = true;
      c.close_after = true;
    } else if (name == "close_early" || name == "reset_mid_body") {
      c.out += "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
      begin_fixed(c, 10);
      c.reset = name == "reset_mid_body";
      c.close_after = true;
    } else if (name == "garbage") {
      c.out += "GARBAGE\r\n\r\n";
      c.close_after = true;
    } else if (name == "stall") {
      c.out += "HTTP/1.1 200 OK\r\nX-Stall: ";
      c.body = Body::forever;  // the response never completes
    } else if (name == "tls_truncated") {
      // No length: the close ends the body, and over TLS the close comes without
      // close_notify, which the client cannot tell from a cut.
      c.out += "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
      begin_fixed(c, 10);
      c.close_after = true;
      c.tls_broken = true;
    } else if (name == "close_no_reply") {
      c.close_after = true;
    } else if (name == "close_in_headers") {
      c.out += "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Half: ";
      c.close_after = true;
    } else if (name == "huge_headers") {
      c.out += huge_headers_reply();
      c.close_after = true;
    } else if (name == "drip_chunked") {
      head(c, 200, "Transfer-Encoding: chunked\r\n", keep, http11);
      c.drip = "5\r\nhello\r\n1;ext=1\r\n!\r\na\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
      c.drip_off = 0;
      c.body = Body::drip;
      c.interval_ms = 2;
      timers.push({now_ms() + c.interval_ms, c.fd, c.generation});
    } else {  // silent and noread are handled before a response is chosen
      head(c, 404, "Content-Length: 0\r\n", keep, http11);
    }
  }

  // Answers a request the parser refused, then closes.
  void refuse(Conn& c, int status) {
    add(bad_requests, 1);
    c.responding = true;
    c.close_after = true;
    c.body = Body::none;
    c.reading = false;
    head(c, status, "Content-Length: 0\r\n", false, true);
    c.in.clear();
    c.in_off = 0;
  }

  // Parses buffered requests and answers them, one at a time, in order; false if the
  // connection closed.
  bool process(Conn& c) {
    while (!c.responding && !c.silent && c.in_off < c.in.size()) {
      std::size_t used = 0;
      const auto st = c.parser.feed(c.in.data() + c.in_off, c.in.size() - c.in_off, &used);
      c.in_off += used;
      if (st == RequestParser::Status::error) {
        refuse(c, c.parser.error_status());
        return flush(c);
      }
      if (st == RequestParser::Status::head && c.parser.request().expect_continue &&
          !c.parser.complete()) {
        c.out += "HTTP/1.1 100 Continue\r\n\r\n";
        if (!flush(c)) return false;
      }
      if (c.parser.complete()) {
        add(requests, 1);
        add(request_body_bytes, c.parser.request().body_bytes);
        const Request req = c.parser.request();
        c.parser.reset();
        respond(c, req);
        if (!flush(c)) return false;  // a response that is out at once lets the loop go on
      }
    }
    if (c.in_off == c.in.size()) {
      c.in.clear();
      c.in_off = 0;
    } else if (c.in_off > kMaxReadAhead / 2) {
      c.in.erase(0, c.in_off);
      c.in_off = 0;
    }
    return true;
  }

  void on_readable(Conn& c) {
    char buf[64 * 1024];
    const ssize_t n = read_in(c, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return close_conn(c.fd);
    if (n < 0) return;
    if (c.silent) return;  // reads and drops, forever
    c.in.append(buf, static_cast<std::size_t>(n));
    if (c.in_off == 0 && c.in.rfind("GET /fault/noread ", 0) == 0) {
      // Stop reading: leave the rest in the kernel, so the client's send buffer fills.
      c.reading = false;
      c.noread = true;
      set_events(c, 0);
      return;
    }
    if (c.responding && c.in.size() - c.in_off > kMaxReadAhead) {
      c.reading = false;  // read again once the response in progress is out
      set_events(c, c.out_off < c.out.size() ? EPOLLOUT : 0u);
      return;
    }
    if (!process(c)) return;
    // Records OpenSSL has read ahead: no event will announce them.
    if (c.ssl && SSL_has_pending(c.ssl) == 1) on_readable(c);
  }

  void on_timer(const TimerEntry& te) {
    if (te.fd < 0 || static_cast<std::size_t>(te.fd) >= conns.size()) return;
    Conn* c = conns[te.fd].get();
    if (!c || c->generation != te.generation) return;
    switch (c->body) {
      case Body::drip:
        c->out.push_back(c->drip[c->drip_off++]);
        if (c->drip_off < c->drip.size()) {
          timers.push({now_ms() + c->interval_ms, c->fd, c->generation});
        } else {
          c->drip.clear();
        }
        break;
      case Body::trickle:
        append_pattern(*c, std::min<std::uint64_t>(c->chunk, c->body_left));
        if (c->body_left) timers.push({now_ms() + c->interval_ms, c->fd, c->generation});
        break;
      case Body::delay:
        c->out += c->delayed_head;
        std::string().swap(c->delayed_head);
        begin_fixed(*c, c->body_left);
        break;
      default:
        return;
    }
    if (flush(*c)) next_request(*c);
  }

  int next_timeout_ms() const {
    if (timers.empty()) return 1000;
    const std::int64_t d = timers.top().when - now_ms();
    return static_cast<int>(std::clamp<std::int64_t>(d, 0, 1000));
  }

  void on_event(int fd, std::uint32_t events) {
    if (static_cast<std::size_t>(fd) >= conns.size() || !conns[fd]) return;
    Conn& c = *conns[fd];
    if (events & (EPOLLERR | EPOLLHUP)) return close_conn(fd);
    if (c.pre_tls != Conn::PreTls::none) return answer_client_hello(c);
    if (c.handshaking) return handshake(c);
    if (events & EPOLLOUT) {
      if (!flush(c) || !next_request(c)) return;
    }
    if (events & EPOLLIN) on_readable(c);
  }
};

std::string Endpoint::url(const std::string& path) const {
  const bool v6 = address.find(':') != std::string::npos;
  return (tls ? "https://" : "http://") + (v6 ? "[" + address + "]" : address) + ":" +
         std::to_string(port) + path;
}

TrickleServer::TrickleServer(ServerOptions options) : impl_(new Impl) {
  impl_->epfd = epoll_create1(EPOLL_CLOEXEC);
  impl_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->epfd < 0 || impl_->wake_fd < 0) {
    delete impl_;
    throw std::runtime_error(std::string("trickle server: ") + std::strerror(errno));
  }
  epoll_event we{};
  we.events = EPOLLIN;
  we.data.fd = impl_->wake_fd;
  epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, impl_->wake_fd, &we);
  if (options.tls_port_count > 0) {
    try {
      impl_->tls_ctx = server_context(options.tls);
      impl_->wrong_name_ctx = wrong_name_context(options.tls);
      impl_->untrusted_ctx = untrusted_context();
    } catch (...) {
      delete impl_;
      throw;
    }
  }
  const int plain_ports = std::max(options.tls_port_count > 0 ? 0 : 1, options.port_count);
  // The TLS faults' listeners: ephemeral ports on the first address, after the others.
  std::vector<const Fault*> tls_faults;
  if (options.tls_port_count > 0) {
    for (const Fault& f : faults()) {
      if (f.kind == FaultKind::tls) tls_faults.push_back(&f);
    }
  }
  for (std::size_t a = 0; a < options.addresses.size(); ++a) {
    const std::string& addr = options.addresses[a];
    const int extra = a == 0 ? static_cast<int>(tls_faults.size()) : 0;
    for (int i = 0; i < plain_ports + options.tls_port_count + extra; ++i) {
      const bool tls = i >= plain_ports;
      const Fault* fault =
          i >= plain_ports + options.tls_port_count
              ? tls_faults[static_cast<std::size_t>(i - plain_ports - options.tls_port_count)]
              : nullptr;
      const std::uint16_t port =
          options.first_port && !fault ? static_cast<std::uint16_t>(options.first_port + i) : 0;
      sockaddr_storage ss{};
      socklen_t len;
      if (addr.find(':') != std::string::npos) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        len = sizeof *s6;
        if (inet_pton(AF_INET6, addr.c_str(), &s6->sin6_addr) != 1) len = 0;
      } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        len = sizeof *s4;
        if (inet_pton(AF_INET, addr.c_str(), &s4->sin_addr) != 1) len = 0;
      }
      const std::string where = addr + ":" + std::to_string(port);
      if (!len) {
        delete impl_;
        throw std::runtime_error("trickle server: '" + addr + "' is not an IP address");
      }
      const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      const int one = 1;
      if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
          ::listen(fd, options.backlog) != 0) {
        const std::string err = std::strerror(errno);
        if (fd >= 0) ::close(fd);
        delete impl_;
        throw std::runtime_error("trickle server: cannot listen on " + where + ": " + err);
      }
      getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
      const std::uint16_t bound =
          ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
      endpoints_.push_back({addr, bound, tls, fault ? fault->name : ""});
      impl_->listeners.push_back(fd);
      Impl::Role role;
      role.tls = tls;
      role.ctx = tls ? impl_->tls_ctx : nullptr;
      if (fault) {
        const std::string name = fault->name;
        role.stall = name == "tls_stall";
        role.pre_tls = name == "tls_garbage" ? Conn::PreTls::garbage
                       : name == "tls_reset" ? Conn::PreTls::reset
                                             : Conn::PreTls::none;
        role.ctx = name == "tls_wrong_name"                           ? impl_->wrong_name_ctx
                   : name == "tls_untrusted"                          ? impl_->untrusted_ctx
                   : role.pre_tls != Conn::PreTls::none || role.stall ? nullptr
                                                                      : impl_->tls_ctx;
      }
      impl_->roles.push_back(role);
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.fd = fd;
      epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, fd, &e);
    }
  }
}

TrickleServer::~TrickleServer() {
  stop_thread();
  delete impl_;
}

namespace {

// OpenSSL's socket BIO writes with write(), not send(MSG_NOSIGNAL): a write to a connection
// the client has closed raises SIGPIPE, which ends a process by default (a client that gave
// up mid-handshake took the server down so: the alert answering its EOF went to a reset
// socket). Blocked on the serving thread while it serves, so such a write fails with EPIPE;
// a library leaves the process's disposition alone, and takes the pending signal back
// before the thread's mask is restored.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlocked() {
    if (sigismember(&old_, SIGPIPE) == 1) return;  // blocked before: left as it was
    const timespec now{};
    while (sigtimedwait(&pipe_, nullptr, &now) == SIGPIPE) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
};

}  // namespace

void TrickleServer::run() {
  const SigpipeBlocked no_sigpipe;
  Impl& s = *impl_;
  huge_headers_reply();  // built before any client waits on it
  pattern();
  std::vector<epoll_event> events(1024);
  while (!s.stop.load(std::memory_order_relaxed)) {
    const int n =
        epoll_wait(s.epfd, events.data(), static_cast<int>(events.size()), s.next_timeout_ms());
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == s.wake_fd) continue;
      const auto listener = std::find(s.listeners.begin(), s.listeners.end(), fd);
      if (listener != s.listeners.end()) {
        s.accept_all(fd, s.roles[static_cast<std::size_t>(listener - s.listeners.begin())]);
        continue;
      }
      s.on_event(fd, events[i].events);
    }
    const std::int64_t now = now_ms();
    while (!s.timers.empty() && s.timers.top().when <= now) {
      const TimerEntry te = s.timers.top();
      s.timers.pop();
      s.on_timer(te);
    }
  }
}

void TrickleServer::request_stop() {
  impl_->stop.store(true);
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(impl_->wake_fd, &one, sizeof one);
}

void TrickleServer::start_thread() {
  impl_->stop.store(false);
  thread_ = std::thread([this] { run(); });
}

void TrickleServer::stop_thread() {
  if (!thread_.joinable()) return;
  request_stop();
  thread_.join();
}

ServerStats TrickleServer::stats() const {
  const Impl& s = *impl_;
  auto v = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  ServerStats out;
  out.accepted = v(s.accepted);
  out.requests = v(s.requests);
  out.bad_requests = v(s.bad_requests);
  out.request_body_bytes = v(s.request_body_bytes);
  out.body_bytes_sent = v(s.body_bytes_sent);
  out.open = v(s.open);
  out.dropped = v(s.dropped);
  out.tls_handshakes = v(s.tls_handshakes);
  out.tls_resumed = v(s.tls_resumed);
  out.tls_handshake_failed = v(s.tls_handshake_failed);
  return out;
}

}  // namespace msb::server
