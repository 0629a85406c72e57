// The per-transfer state machine:
//
//   init -> [resolving] -> connecting -> sending -> receiving -> done
//                              ^             ^  \______/  |
//                              |             +- thinking <-+   (a loop's next request)
//                              +--------------------------+    (the server closed: reconnect)
//   (any failure goes to done)
//
// Every state change goes through set_state(), and what entering a state requires is done
// there and nowhere else (as curl's mstate() with its init table): entering `connecting`
// watches the socket for writable, `sending` prepares the request (batch), `receiving`
// watches for readable, `thinking` waits for the think time, and leaving `resolving` leaves
// the resolver's list. This file has the states and the way to an open connection; the
// exchange on it (send, receive, a loop's next request) is in exchange.cc.
//
// step() is entered from socket_action() with the socket's events, or from perform() with
// events == 0 ("don't know, try"): non-blocking calls then find out, which is what made the
// old perform() loop O(n) in system calls.
#include <arpa/inet.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <cstdio>

#include "core/multi_impl.h"
#include "transport/transport.h"

namespace msb {

namespace {
// Linux 6.3's per-socket ephemeral port range; older glibc headers lack the name.
#ifdef IP_LOCAL_PORT_RANGE
constexpr int kIpLocalPortRange = IP_LOCAL_PORT_RANGE;
#else
constexpr int kIpLocalPortRange = 51;
#endif
}  // namespace

using detail::IoResult;
using detail::kExpireConnect;
using detail::kExpireLowSpeed;
using detail::kExpireTotal;
using detail::kNsPerMs;

namespace detail {
const char* state_name(TransferState s) {
  switch (s) {
    case TransferState::init:
      return "init";
    case TransferState::resolving:
      return "resolving";
    case TransferState::connecting:
      return "connecting";
    case TransferState::handshaking:
      return "handshaking";
    case TransferState::sending:
      return "sending";
    case TransferState::receiving:
      return "receiving";
    case TransferState::thinking:
      return "thinking";
    case TransferState::done:
      return "done";
  }
  return "unknown";
}
}  // namespace detail

namespace {

// The address of an IPv4/IPv6 literal host; nothing if `url`'s host is a name.
const detail::ResolvedAddress* literal_address(detail::LastHostParse& parser,
                                               const detail::Url& url) {
  const detail::ResolvedAddress* a = parser.parse(url.host, url.port);
  return a && (a->addr.ss_family == AF_INET6) == url.ipv6_literal ? a : nullptr;
}

}  // namespace

// ---------------------------------------------------------------- states

void Multi::Impl::set_state(Transfer& t, State s) {
#ifdef MSB_TRACE_STATES
  std::fprintf(stderr, "msb: transfer %llx %s -> %s\n", static_cast<unsigned long long>(t.id),
               detail::state_name(t.state), detail::state_name(s));
#endif
  if (t.state == State::resolving && s != State::resolving) stop_resolving(t);
  if (t.state == State::init) unqueue_start(t);  // ended before it started
  t.state = s;
  // What entering each state requires, by state (init has nothing to do).
  static constexpr void (Multi::Impl::*kOnEnter[detail::kTransferStates])(Transfer&) = {
      nullptr,                  // init
      &Impl::enter_resolving,   // resolving
      &Impl::enter_connecting,  // connecting
      nullptr,                  // handshaking (on_connected made the TLS session)
      &Impl::enter_sending,     // sending
      &Impl::enter_receiving,   // receiving
      &Impl::enter_thinking,    // thinking
      &Impl::enter_done,        // done
  };
  if (auto enter = kOnEnter[static_cast<int>(s)]) (this->*enter)(t);
}

// Joins the transfers waiting for a name: c-ares' sockets wake them all.
void Multi::Impl::enter_resolving(Transfer& t) {
  start_resolving(t);
}

// The connect's completion shows as writable.
void Multi::Impl::enter_connecting(Transfer& t) {
  watch(t, kPollOut);
}

// Ended: the connection goes back to the cache if the exchange left it clean, else it is
// closed. t.result is already set (finish()).
void Multi::Impl::enter_done(Transfer& t) {
  const bool reusable = t.result == Result::ok && t.parser.keep_alive() && !t.out_of_step &&
                        (!t.plan || t.plan->reuse_connection);
  if (reusable) {
    cache_or_close(t);
  } else {
    close_connection(t);
  }
}

// ---------------------------------------------------------------- steps

void Multi::Impl::step(Transfer& t, int fd, int events) {
  switch (t.state) {
    case State::connecting:
      check_connect(t, events);
      break;
    case State::handshaking:
      handshake(t);
      break;
    case State::sending:
      send_request(t);
      break;
    case State::receiving:
      receive(t, fd >= 0 ? fd : t.conn->fd);
      break;
    case State::init:
    case State::resolving:  // woken by the resolver, not by a socket of its own
    case State::thinking:   // woken by its deadline
    case State::done:
      break;
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

void Multi::Impl::start(Transfer& t) {
  t.start_ns = now_;
  if (t.total_timeout_ms)
    t.deadline[kExpireTotal] = now_ + std::int64_t{t.total_timeout_ms} * kNsPerMs;
  if (t.connect_timeout_ms) {
    t.deadline[kExpireConnect] = now_ + std::int64_t{t.connect_timeout_ms} * kNsPerMs;
  }
  if (t.low_speed_limit && t.low_speed_time_ms) {
    t.window_start_ns = now_;
    t.deadline[kExpireLowSpeed] = now_ + std::int64_t{t.low_speed_time_ms} * kNsPerMs;
  }
  requeue(t);

  // The origin is spelled only when a connection may be waiting for it.
  if (auto conn = cache_.size() ? cache_.take(detail::origin_of(t.url)) : nullptr) {
    if (conn->transport->reusable(*conn)) {
      t.conn = std::move(conn);
      t.io = t.conn->transport;
      t.reused = true;
      t.new_connection = false;
      ++stats_.connections_reused;
      t.timings.resolve_us = t.timings.connect_us = since_start_us(t);
      if (t.url.tls) t.timings.tls_us = t.timings.connect_us;
      clear_expire(t, kExpireConnect);
      set_state(t, State::sending);
      return send_request(t);
    }
    conn->transport->close(*conn);
  }
  resolve_and_connect(t);
}

void Multi::Impl::resolve_and_connect(Transfer& t) {
  t.addresses.clear();
  t.next_address = 0;
  // A literal is its only candidate: connected to without being stored in the transfer.
  if (const detail::ResolvedAddress* literal = literal_address(last_host_, t.url)) {
    if (t.timings.resolve_us < 0) t.timings.resolve_us = since_start_us(t);
    int last_error = ECONNREFUSED;
    if (!try_connect(t, *literal, &last_error)) finish(t, Result::couldnt_connect, last_error);
    return;
  }
  if (!ensure_resolver()) return finish(t, Result::resolve_server_failed);
  // Asynchronous: resolved() continues the transfer. It may run before resolve() returns
  // (a cached answer), so nothing touches t after this call.
  set_state(t, State::resolving);
  resolver_->resolve(t.url.host, t.url.port, t.id);
}

// Tries the remaining addresses in order until one connects or is in progress.
void Multi::Impl::connect_next(Transfer& t) {
  int last_error = ECONNREFUSED;
  while (t.next_address < t.addresses.size()) {
    if (try_connect(t, t.addresses[t.next_address++], &last_error)) return;
  }
  finish(t, Result::couldnt_connect, last_error);
}

// Opens a socket to `a` and connects it. True when the transfer has moved on (connected,
// connecting, or finished); false when this address failed (*last_error says how) and the
// next may be tried.
bool Multi::Impl::try_connect(Transfer& t, const detail::ResolvedAddress& a, int* last_error) {
  // The connection's memory before its socket: a failed allocation must not leak an fd.
  auto conn = connections_.make_owned();
  conn->transport = t.url.tls ? static_cast<detail::Transport*>(tls_.get()) : &tcp_;
  const SysResult s = sys_.socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.failed()) return finish(t, Result::socket_error, s.err), true;
  const int fd = static_cast<int>(s.rc);
  conn->fd = fd;
  t.conn = std::move(conn);
  t.io = t.conn->transport;
  t.new_connection = true;
  const int one = 1;
  sys_.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (t.plan && !t.plan->source_address.empty()) {
    // The address without a port: the port is still picked at connect(), per destination,
    // so one source address is not limited to the ~28k ports a bind() would reserve.
    const auto local = detail::parse_ip(t.plan->source_address, 0);
    sys_.setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    const SysResult b =
        local && local->addr.ss_family == a.addr.ss_family
            ? sys_.bind(fd, reinterpret_cast<const sockaddr*>(&local->addr), local->len)
            : SysResult{-1, EAFNOSUPPORT};
    if (b.failed()) {
      *last_error = b.err;
      close_connection(t);
      return false;
    }
  }
  if (opt_.local_port_first != 0 || opt_.local_port_last != 0) {
    const std::uint32_t range = (std::uint32_t{opt_.local_port_last} << 16) | opt_.local_port_first;
    const SysResult r = sys_.setsockopt(fd, IPPROTO_IP, kIpLocalPortRange, &range, sizeof range);
    if (r.failed()) {
      close_connection(t);
      return finish(t, Result::socket_error, r.err), true;
    }
  }
  ++stats_.connections_opened;
  t.connect_start_ns = now_;
  const SysResult c = sys_.connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len);
  if (!c.failed()) return on_connected(t), true;
  if (c.err == EINPROGRESS) return set_state(t, State::connecting), true;
  *last_error = c.err;
  close_connection(t);
  return false;
}

void Multi::Impl::check_connect(Transfer& t, int events) {
  if (events == 0) {
    // perform(): nobody said the socket is ready, so ask without waiting.
    pollfd p{t.conn->fd, POLLOUT, 0};
    if (sys_.poll(&p, 1, 0).rc <= 0) return;
  }
  int err = 0;
  socklen_t len = sizeof err;
  const SysResult r = sys_.getsockopt(t.conn->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (r.failed()) err = r.err;
  if (err == 0) return on_connected(t);
  close_connection(t);
  if (t.next_address < t.addresses.size()) return connect_next(t);
  finish(t, Result::couldnt_connect, err);
}

void Multi::Impl::on_connected(Transfer& t) {
  if (!t.addresses.empty()) std::vector<detail::ResolvedAddress>().swap(t.addresses);
  if (t.timings.connect_us < 0) t.timings.connect_us = since_start_us(t);
  if (t.new_connection) t.connect_ns = now_ - t.connect_start_ns;
  if (!t.url.tls) return connection_ready(t);
  // The connect deadline goes on: it covers the handshake too.
  t.conn->origin = detail::origin_of(t.url);  // its sessions are kept by origin
  if (!tls_->attach(*t.conn, t.url)) return finish(t, Result::out_of_memory);
  t.tls_start_ns = now_;
  set_state(t, State::handshaking);
  handshake(t);
}

void Multi::Impl::handshake(Transfer& t) {
  const IoResult r = t.io->start(*t.conn);
  if (r.status == IoResult::again) return watch(t, r.want);
  if (r.status != IoResult::done) {
    return finish(t, r.code != Result::ok ? r.code : Result::tls_handshake_failed, r.err);
  }
  t.tls_ns = now_ - t.tls_start_ns;
  t.tls_resumed = detail::TlsTransport::resumed(*t.conn);
  ++stats_.tls_handshakes;
  if (t.tls_resumed) ++stats_.tls_resumed;
  stats_.tls_ns.record(static_cast<std::uint64_t>(t.tls_ns));
  if (t.timings.tls_us < 0) t.timings.tls_us = since_start_us(t);
  connection_ready(t);
}

void Multi::Impl::connection_ready(Transfer& t) {
  clear_expire(t, kExpireConnect);
  set_state(t, State::sending);
  send_request(t);
}

}  // namespace msb
