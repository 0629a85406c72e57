#include "trickle_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <queue>
#include <stdexcept>

namespace msb::server {

namespace {

std::int64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// The i-th body byte of every response: lets clients check content.
char body_byte(std::uint64_t i) {
  return static_cast<char>('a' + i % 26);
}

// The huge_headers fault's reply: over 1 MiB of header lines. Built once, when the server
// starts: built per connection, it queued the faulty connections behind each other in the
// server, which showed up as the engine's time to surface the fault (scenario oversized,
// p50 over 19 connections: 67-75 ms on select/poll, 13-16 ms on the others; built once:
// 6-8 ms on all five).
const std::string& huge_headers_reply() {
  static const std::string reply = [] {
    std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
    for (int i = 0; i < 1024; ++i)
      r += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'h') + "\r\n";
    return r + "\r\n";
  }();
  return reply;
}

struct Conn {
  int fd = -1;
  std::uint32_t generation = 0;
  std::string in;   // request bytes not yet handled
  std::string out;  // bytes waiting for the socket to take them
  std::size_t out_off = 0;
  bool busy = false;         // a response is in progress
  bool close_after = false;  // close once the response is out
  bool silent = false;
  bool reset = false;           // close with RST instead of FIN
  std::uint64_t body_left = 0;  // trickled body bytes still to send
  std::uint64_t body_pos = 0;
  std::uint32_t interval_ms = 0;
  std::uint32_t chunk = 1;
  std::string drip;  // bytes sent one per interval_ms (drip_chunked)
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
  std::vector<std::unique_ptr<Conn>> conns;  // by fd
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers;
  std::atomic<bool> stop{false};
  std::uint32_t next_generation = 1;
  mutable std::mutex stats_mutex;
  ServerStats stats;

  ~Impl() {
    for (auto& c : conns) {
      if (c) ::close(c->fd);
    }
    for (int l : listeners) ::close(l);
    if (wake_fd >= 0) ::close(wake_fd);
    if (spare_fd >= 0) ::close(spare_fd);
    if (epfd >= 0) ::close(epfd);
  }

  void set_events(Conn& c, std::uint32_t ev, int op = EPOLL_CTL_MOD) {
    epoll_event e{};
    e.events = ev;
    e.data.fd = c.fd;
    epoll_ctl(epfd, op, c.fd, &e);
  }

  void close_conn(int fd) {
    if (fd < 0 || static_cast<std::size_t>(fd) >= conns.size() || !conns[fd]) return;
    if (conns[fd]->reset) {
      const linger l{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns[fd].reset();
    std::lock_guard<std::mutex> lock(stats_mutex);
    --stats.open;
  }

  void accept_all(int listener) {
    for (int i = 0; i < 256; ++i) {
      const int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
          // Out of descriptors: free the spare, take the connection off the queue and
          // drop it, keep the spare again. The client sees its connection closed.
          ::close(spare_fd);
          const int dropped = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
          if (dropped >= 0) ::close(dropped);
          spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
          std::lock_guard<std::mutex> lock(stats_mutex);
          ++stats.dropped;
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
      set_events(*conns[fd], EPOLLIN, EPOLL_CTL_ADD);
      std::lock_guard<std::mutex> lock(stats_mutex);
      ++stats.accepted;
      ++stats.open;
    }
  }

  // Writes what is queued; false if the connection was closed.
  bool flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          set_events(c, EPOLLIN | EPOLLOUT);
          return true;
        }
        close_conn(c.fd);
        return false;
      }
      c.out_off += static_cast<std::size_t>(n);
    }
    c.out.clear();
    c.out_off = 0;
    set_events(c, EPOLLIN);
    if (c.busy && c.body_left == 0) return response_done(c);
    return true;
  }

  bool response_done(Conn& c) {
    c.busy = false;
    if (c.close_after) {
      close_conn(c.fd);
      return false;
    }
    return handle_requests(c);
  }

  void append_body(Conn& c, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) c.out.push_back(body_byte(c.body_pos + i));
    c.body_pos += n;
    c.body_left -= n;
    std::lock_guard<std::mutex> lock(stats_mutex);
    stats.body_bytes_sent += n;
  }

  void respond(Conn& c, const std::string& method, const std::string& path, bool keep_alive) {
    const bool head = method == "HEAD";
    c.busy = true;
    c.close_after = !keep_alive;
    c.body_pos = 0;
    c.body_left = 0;
    c.interval_ms = 0;
    unsigned long long n = 0, ms = 0, chunk = 0;
    int status = 0;
    const std::string conn_hdr = keep_alive ? "" : "Connection: close\r\n";
    if (std::sscanf(path.c_str(), "/bytes/%llu", &n) == 1) {
      c.out +=
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n) + "\r\n" + conn_hdr + "\r\n";
      if (!head) {
        c.body_left = n;
        append_body(c, n);
      }
    } else if (std::sscanf(path.c_str(), "/chunked/%llu/%llu", &n, &chunk) >= 1) {
      if (chunk == 0) chunk = 1000;
      c.out += "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + conn_hdr + "\r\n";
      if (!head) {
        c.body_left = n;
        while (c.body_left) {
          const std::uint64_t k = std::min<std::uint64_t>(chunk, c.body_left);
          char size[32];
          std::snprintf(size, sizeof size, "%llx\r\n", static_cast<unsigned long long>(k));
          c.out += size;
          append_body(c, k);
          c.out += "\r\n";
        }
        c.out += "0\r\n\r\n";
      }
    } else if (std::sscanf(path.c_str(), "/close/%llu", &n) == 1) {
      c.out += "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
      c.close_after = true;
      if (!head) {
        c.body_left = n;
        append_body(c, n);
      }
    } else if (std::sscanf(path.c_str(), "/trickle/%llu/%llu/%llu", &n, &ms, &chunk) >= 2) {
      c.out +=
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n) + "\r\n" + conn_hdr + "\r\n";
      if (!head && n) {
        c.body_left = n;
        c.interval_ms = static_cast<std::uint32_t>(std::max<unsigned long long>(ms, 1));
        c.chunk = static_cast<std::uint32_t>(std::max<unsigned long long>(chunk, 1));
        timers.push({now_ms() + c.interval_ms, c.fd, c.generation});
      }
    } else if (path == "/idle") {
      c.out += "HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n";
      c.body_left = 1ull << 40;  // never sent: the connection stays busy until closed
    } else if (path == "/fault/reset") {
      c.reset = true;
      c.close_after = true;
    } else if (path == "/fault/close_early") {
      c.out += "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
      c.body_left = 10;
      append_body(c, 10);
      c.close_after = true;
    } else if (path == "/fault/garbage") {
      c.out += "GARBAGE\r\n\r\n";
      c.close_after = true;
    } else if (path == "/fault/stall") {
      c.out += "HTTP/1.1 200 OK\r\nX-Stall: ";
      c.body_left = 1;  // never sent: the response never completes
    } else if (path == "/fault/reset_mid_body") {
      c.out += "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
      c.body_left = 10;
      append_body(c, 10);
      c.reset = true;
      c.close_after = true;
    } else if (path == "/fault/close_no_reply") {
      c.close_after = true;
    } else if (path == "/fault/close_in_headers") {
      c.out += "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Half: ";
      c.close_after = true;
    } else if (path == "/fault/huge_headers") {
      c.out += huge_headers_reply();
      c.close_after = true;
    } else if (path == "/fault/drip_chunked") {
      c.out += "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + conn_hdr + "\r\n";
      c.drip = "5\r\nhello\r\n1;ext=1\r\n!\r\na\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
      c.drip_off = 0;
      c.interval_ms = 2;
      c.body_left = 1;  // busy until the drip is out (cleared by on_timer)
      timers.push({now_ms() + c.interval_ms, c.fd, c.generation});
    } else if (path == "/silent") {
      c.silent = true;
      return;
    } else if (std::sscanf(path.c_str(), "/status/%d", &status) == 1 && status >= 100 &&
               status <= 999) {
      c.out += "HTTP/1.1 " + std::to_string(status) + " Status\r\n";
      if (status != 204 && status != 304) c.out += "Content-Length: 0\r\n";
      c.out += conn_hdr + "\r\n";
    } else {
      c.out += "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n" + conn_hdr + "\r\n";
    }
  }

  // Answers complete requests in c.in, one at a time; false if the connection closed.
  bool handle_requests(Conn& c) {
    while (!c.busy && !c.silent) {
      const auto end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) return true;
      const std::string head = c.in.substr(0, end);
      c.in.erase(0, end + 4);
      {
        std::lock_guard<std::mutex> lock(stats_mutex);
        ++stats.requests;
      }
      char method[16] = {0}, path[1024] = {0}, version[16] = {0};
      if (std::sscanf(head.c_str(), "%15s %1023s %15s", method, path, version) != 3) {
        c.out += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        c.busy = true;
        c.close_after = true;
        return flush(c);
      }
      std::string lower = head;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      const bool keep_alive = std::strcmp(version, "HTTP/1.1") == 0 &&
                              lower.find("connection: close") == std::string::npos;
      respond(c, method, path, keep_alive);
      if (!flush(c)) return false;
    }
    return true;
  }

  void on_readable(Conn& c) {
    char buf[4096];
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return close_conn(c.fd);
    if (n < 0) return;
    if (c.silent) return;  // reads and drops, forever
    c.in.append(buf, static_cast<std::size_t>(n));
    if (c.in.rfind("GET /fault/noread ", 0) == 0) {
      // Stop reading: leave the rest in the kernel, so the client's send buffer fills.
      set_events(c, 0);
      return;
    }
    if (c.in.size() > 64 * 1024) return close_conn(c.fd);
    handle_requests(c);
  }

  void on_timer(const TimerEntry& te) {
    if (te.fd < 0 || static_cast<std::size_t>(te.fd) >= conns.size()) return;
    Conn* c = conns[te.fd].get();
    if (!c || c->generation != te.generation || c->body_left == 0) return;
    if (!c->drip.empty()) {
      c->out.push_back(c->drip[c->drip_off++]);
      if (c->drip_off < c->drip.size()) {
        timers.push({now_ms() + c->interval_ms, c->fd, c->generation});
      } else {
        c->drip.clear();
        c->body_left = 0;
      }
      flush(*c);
      return;
    }
    append_body(*c, std::min<std::uint64_t>(c->chunk, c->body_left));
    if (c->body_left) timers.push({now_ms() + c->interval_ms, c->fd, c->generation});
    flush(*c);
  }

  int next_timeout_ms() const {
    if (timers.empty()) return 1000;
    const std::int64_t d = timers.top().when - now_ms();
    return static_cast<int>(std::clamp<std::int64_t>(d, 0, 1000));
  }
};

std::string Endpoint::url(const std::string& path) const {
  const bool v6 = address.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port) + path;
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
  for (const auto& addr : options.addresses) {
    for (int i = 0; i < std::max(1, options.port_count); ++i) {
      const std::uint16_t port =
          options.first_port ? static_cast<std::uint16_t>(options.first_port + i) : 0;
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
      endpoints_.push_back({addr, bound});
      impl_->listeners.push_back(fd);
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

void TrickleServer::run() {
  Impl& s = *impl_;
  huge_headers_reply();  // built before any client waits on it
  std::vector<epoll_event> events(1024);
  while (!s.stop.load(std::memory_order_relaxed)) {
    const int n =
        epoll_wait(s.epfd, events.data(), static_cast<int>(events.size()), s.next_timeout_ms());
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == s.wake_fd) continue;
      bool is_listener = false;
      for (int l : s.listeners) {
        if (l == fd) {
          is_listener = true;
          s.accept_all(fd);
          break;
        }
      }
      if (is_listener) continue;
      if (static_cast<std::size_t>(fd) >= s.conns.size() || !s.conns[fd]) continue;
      Conn& c = *s.conns[fd];
      if (events[i].events & (EPOLLERR | EPOLLHUP)) {
        s.close_conn(fd);
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        if (!s.flush(c)) continue;
      }
      if (events[i].events & EPOLLIN) s.on_readable(c);
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
  std::lock_guard<std::mutex> lock(impl_->stats_mutex);
  return impl_->stats;
}

}  // namespace msb::server
