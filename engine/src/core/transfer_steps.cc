// The per-transfer state machine: init -> connecting -> sending -> receiving -> done.
//
// Every state change goes through set_state(). step() is entered from socket_action() with
// the socket's events, or from perform() with events == 0 ("don't know, try"): non-blocking
// calls then find out, which is what made the old perform() loop O(n) in system calls.
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/multi_impl.h"

namespace msb {

namespace {
// Linux 6.3's per-socket ephemeral port range; older glibc headers lack the name.
#ifdef IP_LOCAL_PORT_RANGE
constexpr int kIpLocalPortRange = IP_LOCAL_PORT_RANGE;
#else
constexpr int kIpLocalPortRange = 51;
#endif
}  // namespace

using detail::kExpireConnect;
using detail::kExpireLowSpeed;
using detail::kExpireStart;
using detail::kExpireTotal;
using detail::kNever;
using detail::kNsPerMs;
using detail::now_ns;
using State = detail::TransferState;

namespace detail {
const char* state_name(TransferState s) {
  switch (s) {
    case TransferState::init: return "init";
    case TransferState::resolving: return "resolving";
    case TransferState::connecting: return "connecting";
    case TransferState::sending: return "sending";
    case TransferState::receiving: return "receiving";
    case TransferState::done: return "done";
  }
  return "unknown";
}
}  // namespace detail

namespace {

std::int64_t since_start_us(const detail::Transfer& t) { return (now_ns() - t.start_ns) / 1000; }

// Appends an IPv4/IPv6 literal's address; false if `host` is not a literal.
bool literal_address(const detail::Url& url, std::vector<detail::ResolvedAddress>& out) {
  detail::ResolvedAddress a{};
  if (!url.ipv6_literal) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.addr);
    if (inet_pton(AF_INET, url.host.c_str(), &sin->sin_addr) != 1) return false;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(url.port);
    a.len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.addr);
    if (inet_pton(AF_INET6, url.host.c_str(), &sin6->sin6_addr) != 1) return false;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(url.port);
    a.len = sizeof(sockaddr_in6);
  }
  out.push_back(a);
  return true;
}

// What info_read() reports for `t`, ended with `result`.
Done done_record(const detail::Transfer& t, Result result, int os_error) {
  Done d;
  d.id = t.id;
  d.result = result;
  d.expired = result == Result::timed_out ? t.expired : Expired::none;
  d.os_error = os_error;
  d.http_status = t.parser.status();
  d.body_bytes = t.parser.body_bytes();
  d.header_bytes = t.parser.header_bytes();
  d.reused_connection = t.reused;
  d.timings = t.timings;
  d.timings.total_us = t.start_ns ? since_start_us(t) : 0;
  d.user = t.user;
  return d;
}

void body_to_sink(void* ctx, const char* data, std::size_t len) {
  auto* t = static_cast<detail::Transfer*>(ctx);
  if (t->sink) t->sink(t->id, data, len);
}

}  // namespace

void Multi::Impl::set_state(Transfer& t, State s) {
#ifdef MSB_TRACE_STATES
  std::fprintf(stderr, "msb: transfer %llx %s -> %s\n", static_cast<unsigned long long>(t.id),
               detail::state_name(t.state), detail::state_name(s));
#endif
  t.state = s;
}

void Multi::Impl::step(Transfer& t, int fd, int events) {
  switch (t.state) {
    case State::connecting: check_connect(t, events); break;
    case State::sending: send_request(t); break;
    case State::receiving: receive(t, fd >= 0 ? fd : t.conn->fd); break;
    case State::init:
    case State::resolving:  // woken by the resolver, not by a socket of its own
    case State::done: break;
  }
}

void Multi::Impl::step_guarded(Transfer& t, int fd, int events) {
  try {
    step(t, fd, events);
  } catch (const std::bad_alloc&) {
    // The step stopped part way; finish() closes whatever it had opened.
    finish(t, Result::out_of_memory);
  }
}

void Multi::Impl::on_expired(Transfer& t, std::int64_t now) {
  // Deadlines in the order they matter: a transfer past its total timeout fails as such
  // even if its low-speed window ended in the same tick.
  if (t.deadline[kExpireTotal] <= now) {
    t.expired = Expired::total;
    return finish(t, Result::timed_out);
  }
  if (t.deadline[kExpireConnect] <= now) {
    t.expired = Expired::connect;
    return finish(t, Result::timed_out);
  }
  if (t.deadline[kExpireLowSpeed] <= now) {
    const double window_s = double(now - t.window_start_ns) / 1e9;
    const double rate = double(t.received - t.window_received) / window_s;
    if (rate < double(t.low_speed_limit)) {
      t.expired = Expired::low_speed;
      return finish(t, Result::timed_out);
    }
    t.window_start_ns = now;
    t.window_received = t.received;
    t.deadline[kExpireLowSpeed] = now + std::int64_t{t.low_speed_time_ms} * kNsPerMs;
  }
  if (t.deadline[kExpireStart] <= now) {
    t.deadline[kExpireStart] = kNever;
    start(t, now);  // may finish t: touch nothing after it
    return;
  }
  requeue(t);
}

void Multi::Impl::start(Transfer& t, std::int64_t now) {
  t.start_ns = now;
  if (t.total_timeout_ms) t.deadline[kExpireTotal] = now + std::int64_t{t.total_timeout_ms} * kNsPerMs;
  if (t.connect_timeout_ms) {
    t.deadline[kExpireConnect] = now + std::int64_t{t.connect_timeout_ms} * kNsPerMs;
  }
  if (t.low_speed_limit && t.low_speed_time_ms) {
    t.window_start_ns = now;
    t.deadline[kExpireLowSpeed] = now + std::int64_t{t.low_speed_time_ms} * kNsPerMs;
  }
  requeue(t);

  std::string origin = t.url.host + ":" + std::to_string(t.url.port);
  if (auto conn = cache_.take(origin)) {
    // An idle connection the server closed (or wrote junk on) must not be reused: peek.
    char probe;
    const ssize_t n = sys_.recv(conn->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      t.conn = std::move(conn);
      t.reused = true;
      ++stats_.connections_reused;
      t.timings.resolve_us = t.timings.connect_us = since_start_us(t);
      clear_expire(t, kExpireConnect);
      return on_connected(t);
    }
    close_fd(conn->fd);
  }
  resolve_and_connect(t);
}

void Multi::Impl::resolve_and_connect(Transfer& t) {
  t.addresses.clear();
  t.next_address = 0;
  if (literal_address(t.url, t.addresses)) {
    if (t.timings.resolve_us < 0) t.timings.resolve_us = since_start_us(t);
    return connect_next(t);
  }
  if (!ensure_resolver()) return finish(t, Result::resolve_server_failed);
  // Asynchronous: resolved() continues the transfer. It may run before resolve() returns
  // (a cached answer), so nothing touches t after this call.
  set_state(t, State::resolving);
  start_resolving(t);
  resolver_->resolve(t.url.host, t.url.port, t.id, now_ns());
}

// Tries the remaining addresses in order until one connects or is in progress.
void Multi::Impl::connect_next(Transfer& t) {
  int last_error = ECONNREFUSED;
  while (t.next_address < t.addresses.size()) {
    const detail::ResolvedAddress& a = t.addresses[t.next_address++];
    // The connection's memory before its socket: a failed allocation must not leak an fd.
    auto conn = std::make_unique<Connection>();
    conn->origin = t.url.host + ":" + std::to_string(t.url.port);
    const int fd = sys_.socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return finish(t, Result::socket_error, errno);
    conn->fd = fd;
    t.conn = std::move(conn);
    const int one = 1;
    sys_.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt_.local_port_first != 0 || opt_.local_port_last != 0) {
      const std::uint32_t range = (std::uint32_t{opt_.local_port_last} << 16) | opt_.local_port_first;
      if (sys_.setsockopt(fd, IPPROTO_IP, kIpLocalPortRange, &range, sizeof range) != 0) {
        const int err = errno;
        close_connection(t);
        return finish(t, Result::socket_error, err);
      }
    }
    ++stats_.connections_opened;
    if (sys_.connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) == 0) {
      return on_connected(t);
    }
    if (errno == EINPROGRESS) {
      set_state(t, State::connecting);
      watch(t, kPollOut);
      return;
    }
    last_error = errno;
    close_connection(t);
  }
  finish(t, Result::couldnt_connect, last_error);
}

void Multi::Impl::check_connect(Transfer& t, int events) {
  if (events == 0) {
    // perform(): nobody said the socket is ready, so ask without waiting.
    pollfd p{t.conn->fd, POLLOUT, 0};
    if (::poll(&p, 1, 0) <= 0) return;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (sys_.getsockopt(t.conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) return on_connected(t);
  close_connection(t);
  if (t.next_address < t.addresses.size()) return connect_next(t);
  finish(t, Result::couldnt_connect, err);
}

void Multi::Impl::on_connected(Transfer& t) {
  clear_expire(t, kExpireConnect);
  std::vector<detail::ResolvedAddress>().swap(t.addresses);
  if (t.timings.connect_us < 0) t.timings.connect_us = since_start_us(t);
  std::string& r = t.request;
  r.reserve(96 + t.url.target.size() + t.url.host.size() + t.extra_headers.size());
  r = t.method == Method::head ? "HEAD " : "GET ";
  r += t.url.target;
  r += " HTTP/1.1\r\nHost: ";
  r += t.url.ipv6_literal ? "[" + t.url.host + "]" : t.url.host;
  if (t.url.port != 80) r += ":" + std::to_string(t.url.port);
  r += "\r\nUser-Agent: msbench/0.1\r\nAccept: */*\r\n";
  r += t.extra_headers;
  r += "\r\n";
  t.request_sent = 0;
  t.parser.reset(t.method == Method::head);
  set_state(t, State::sending);
  send_request(t);
}

void Multi::Impl::send_request(Transfer& t) {
  while (t.request_sent < t.request.size()) {
    const ssize_t n = sys_.send(t.conn->fd, t.request.data() + t.request_sent,
                                t.request.size() - t.request_sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return watch(t, kPollOut);
      const int err = errno;
      if (retry_on_fresh_connection(t)) return;
      return finish(t, Result::send_error, err);
    }
    t.request_sent += static_cast<std::size_t>(n);
  }
  std::string().swap(t.request);
  set_state(t, State::receiving);
  watch(t, kPollIn);
}

void Multi::Impl::receive(Transfer& t, int fd) {
  // One recv per call unless it filled the buffer: with level-triggered readiness a socket
  // with more to read is reported again, and a trickling socket costs one syscall, not two.
  for (int round = 0; round < 4; ++round) {
    const ssize_t n = sys_.recv(fd, recv_buffer_.data(), recv_buffer_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      const int err = errno;
      if (retry_on_fresh_connection(t)) return;
      return finish(t, Result::recv_error, err);
    }
    if (n == 0) {
      if (retry_on_fresh_connection(t)) return;
      if (t.parser.eof() == detail::Http1Parser::Status::done) return finish(t, Result::ok);
      return finish(t, t.parser.error());
    }
    if (t.timings.first_byte_us < 0) t.timings.first_byte_us = since_start_us(t);
    t.received += static_cast<std::uint64_t>(n);
    std::size_t used = 0;
    const auto st = t.parser.feed(recv_buffer_.data(), static_cast<std::size_t>(n), &used,
                                  detail::BodySink{&body_to_sink, &t});
    if (st == detail::Http1Parser::Status::error) return finish(t, t.parser.error());
    if (st == detail::Http1Parser::Status::done) {
      // Bytes beyond the response mean the server is out of step: don't reuse the socket.
      if (used < static_cast<std::size_t>(n)) t.out_of_step = true;
      return finish(t, Result::ok);
    }
    if (static_cast<std::size_t>(n) < recv_buffer_.size()) return;
  }
}

// A cached connection can die between the liveness check and the request (the server's
// keep-alive timeout). Like curl, re-send once on a fresh connection if nothing came back.
bool Multi::Impl::retry_on_fresh_connection(Transfer& t) {
  if (!t.reused || t.retried || t.parser.started()) return false;
  t.retried = true;
  t.reused = false;
  close_connection(t);
  t.timings.connect_us = -1;
  resolve_and_connect(t);
  return true;
}


// Never throws: it runs in the handlers that catch a failed allocation, so it must not need
// memory itself. The Done queue's one allocation may fail; then the transfer keeps its slot
// and its result, parked for info_read() (which hands out queued records first).
void Multi::Impl::finish(Transfer& t, Result result, int os_error) {
  bool queued = true;
  try {
    done_.push_back(done_record(t, result, os_error));
  } catch (const std::bad_alloc&) {
    queued = false;
  }
  if (t.state == State::resolving) stop_resolving(t);
  set_state(t, State::done);
  const bool reusable = result == Result::ok && t.parser.keep_alive() && !t.out_of_step;
  if (reusable) {
    cache_or_close(t);
  } else {
    close_connection(t);
  }
  ++stats_.transfers_done;
  ++stats_.by_result[static_cast<std::size_t>(result)];
  if (queued) return release_slot(t);  // t is gone after this
  --live_;
  if (t.timer.queued) timers_->remove(&t.timer);
  t.result = result;
  t.os_error = os_error;
  t.timings.total_us = t.start_ns ? since_start_us(t) : 0;
  t.undelivered_next = nullptr;
  (undelivered_tail_ ? undelivered_tail_->undelivered_next : undelivered_head_) = &t;
  undelivered_tail_ = &t;
}

std::optional<Done> Multi::Impl::info_read() {
  if (!done_.empty()) {
    Done d = done_.front();
    done_.pop_front();
    return d;
  }
  if (Transfer* t = undelivered_head_) {
    undelivered_head_ = t->undelivered_next;
    if (!undelivered_head_) undelivered_tail_ = nullptr;
    Done d = done_record(*t, t->result, t->os_error);
    d.timings.total_us = t->timings.total_us;  // as it was when the transfer finished
    free_slot(*t);
    return d;
  }
  return std::nullopt;
}

}  // namespace msb
