// Dispatch: socket_action() and perform() drive the transfers; the socket callback tells
// the application what to watch (watch, unwatch, sync_socket); connections are closed or
// cached here, always reporting REMOVE before a watched socket is closed.
#include <algorithm>

#include "core/multi_impl.h"
#include "transport/transport.h"

namespace msb {

int Multi::Impl::socket_action(int fd, int events) {
  const std::int64_t t0 = tick();  // the one clock read everything in this call shares
  ++stats_.socket_action_calls;
  if (fd == kSocketTimeout) {
    timer_armed_ = false;  // the application's one-shot timer has fired
    deadlines_changed_ = true;
  } else if (detail::SockEntry* e = index_->find(fd)) {
    // Before this socket's recv, so that the next ones' transfers load while it runs.
    if (ahead_count_) load_ahead();
    if (e->resolver_want) {
      // c-ares' socket: one pass of c-ares answers whichever lookups the bytes complete,
      // waking every transfer that waited on them (and maybe closing this socket).
      resolver_->process(fd, events);
    } else if (!e->more.empty()) {
      step_sharers(*e, fd, events);
    } else if (e->first.transfer) {
      step_guarded(*e->first.transfer, fd, events);
    }
  }
  // As libcurl does, also act on anything already due: the application's timer may be
  // late, and a busy socket must not starve the deadlines.
  run_expired();
  // Both nearly always have nothing to do: asked here, without a call per event.
  if (!refused_.empty()) fail_refused();
  if (deadlines_changed_) update_timer();
  if (instrument_) {
    const auto dt = static_cast<std::uint64_t>(read_clock() - t0);
    (fd == kSocketTimeout ? stats_.socket_action_timer_ns : stats_.socket_action_socket_ns)
        .record(dt);
  }
  return running();
}

void Multi::Impl::prefetch(int fd) noexcept {
  index_->prefetch(fd);
  if (ahead_count_ == ahead_.size()) {
    ahead_first_ = static_cast<std::uint8_t>((ahead_first_ + 1) % ahead_.size());
    --ahead_count_;
  }
  ahead_[(ahead_first_ + ahead_count_) % ahead_.size()] = {fd, stats_.socket_action_calls};
  ++ahead_count_;
}

void Multi::Impl::load_ahead() {
  // This call is number socket_action_calls; a socket named before the previous call has
  // its entry loaded by now: reading it costs no wait, and its transfer's two hot lines
  // (transfer.h) then arrive during this call's recv.
  while (ahead_count_ && ahead_[ahead_first_].call + 1 < stats_.socket_action_calls) {
    const int fd = ahead_[ahead_first_].fd;
    ahead_first_ = static_cast<std::uint8_t>((ahead_first_ + 1) % ahead_.size());
    --ahead_count_;
    if (const detail::SockEntry* e = index_->peek(fd); e && e->first.transfer) {
      __builtin_prefetch(e->first.transfer);
      __builtin_prefetch(reinterpret_cast<const char*>(e->first.transfer) + 64);
    }
  }
}

void Multi::Impl::step_sharers(detail::SockEntry& e, int fd, int events) {
  // Stepping one may end the socket and change the list: the ids first.
  waiting_.clear();
  waiting_.push_back(e.first.transfer->id);
  for (const auto& w : e.more) waiting_.push_back(w.transfer->id);
  for (TransferId id : waiting_) {
    if (Transfer* t = lookup(id)) step_guarded(*t, fd, events);
  }
}

int Multi::Impl::perform() {
  const std::int64_t t0 = tick();
  ++stats_.perform_calls;
  // c-ares' sockets too, ready or not.
  if (resolver_) {
    const std::vector<int> fds = resolver_fds_;
    for (int fd : fds) resolver_->process(fd, 0);
  }
  // The O(n) walk on purpose: every transfer is stepped, ready or not.
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Transfer* t = slots_[i].get();
    if (t && t->state != State::init) step_guarded(*t, -1, 0);
  }
  run_expired();
  fail_refused();
  timer_armed_ = false;  // perform() users poll timeout() rather than hold a timer
  deadlines_changed_ = true;
  update_timer();
  if (instrument_) stats_.perform_ns.record(static_cast<std::uint64_t>(read_clock() - t0));
  return running();
}

bool Multi::Impl::assign(int fd, void* socketp) {
  detail::SockEntry* e = index_->find(fd);
  if (!e) return false;
  e->socketp = socketp;
  return true;
}

bool Multi::Impl::fdset(fd_set* read_set, fd_set* write_set, int* max_fd) {
  bool fits = true;
  index_->for_each([&](detail::SockEntry& e) {
    if (e.fd >= FD_SETSIZE) fits = false;
  });
  if (!fits) return false;
  index_->for_each([&](detail::SockEntry& e) {
    const int w = e.wanted();
    if ((w & kPollIn) && read_set) FD_SET(e.fd, read_set);
    if ((w & kPollOut) && write_set) FD_SET(e.fd, write_set);
    if (w && max_fd) *max_fd = std::max(*max_fd, e.fd);
  });
  return true;
}

void Multi::Impl::pollset(std::vector<pollfd>& out) {
  out.clear();
  index_->for_each([&](detail::SockEntry& e) {
    const int w = e.wanted();
    short ev = 0;
    if (w & kPollIn) ev |= POLLIN;
    if (w & kPollOut) ev |= POLLOUT;
    if (ev) out.push_back(pollfd{e.fd, ev, 0});
  });
}

void Multi::Impl::fail_refused() {
  while (!refused_.empty()) {
    const TransferId id = refused_.back();
    refused_.pop_back();
    if (Transfer* t = lookup(id)) finish(*t, Result::watch_failed);
  }
}

// ---------------------------------------------------------------- sockets

// Records what `t` wants of its connection's socket and tells the application if the
// socket's combined interest changed.
void Multi::Impl::watch(Transfer& t, int want) {
  Connection& c = *t.conn;
  if (!c.watch) {
    c.watch = index_->find(c.fd);
    if (!c.watch) c.watch = &index_->insert(c.fd);
  }
  detail::SockWaiter* w = c.watch->find_waiter(&t);
  if (!w) w = &c.watch->add_waiter(&t);
  w->want = static_cast<std::uint8_t>(want);
  sync_socket(*c.watch);
}

void Multi::Impl::unwatch(Transfer& t) {
  if (!t.conn || !t.conn->watch) return;
  detail::SockEntry* e = t.conn->watch;
  t.conn->watch = nullptr;
  e->drop_waiter(&t);
  if (e->waiter_count() == 0) {
    if (e->reported != kPollNone) {
      ++stats_.socket_callbacks;
      if (opt_.socket_fn) opt_.socket_fn(e->fd, kPollRemove, e->socketp);
    }
    index_->erase(e->fd);
  } else {
    sync_socket(*e);
  }
}

void Multi::Impl::sync_socket(detail::SockEntry& e) {
  const int w = e.wanted();
  if (w == e.reported) return;
  e.reported = w;
  ++stats_.socket_callbacks;
  if (!opt_.socket_fn) return;
  if (opt_.socket_fn(e.fd, w == kPollNone ? kPollRemove : w, e.socketp) == 0 || w == kPollNone) {
    return;
  }
  // Refused: the waiters fail once the current call has finished stepping them (they may
  // be mid-step right now). On c-ares' socket, the waiters are every resolving transfer.
  if (e.resolver_want) {
    for (Transfer* t = resolving_head_; t; t = t->wait_next) refused_.push_back(t->id);
    return;
  }
  if (e.first.transfer) refused_.push_back(e.first.transfer->id);
  for (const auto& m : e.more) refused_.push_back(m.transfer->id);
}

void Multi::Impl::close_connection(Transfer& t) {
  if (!t.conn) return;
  unwatch(t);
  t.conn->transport->close(*t.conn);
  t.conn.reset();
  t.io = nullptr;
}

void Multi::Impl::cache_or_close(Transfer& t) {
  if (!t.conn) return;
  unwatch(t);
  t.io = nullptr;
  try {
    // Spelled here, not at connect: most connections never reach the cache.
    if (cache_.capacity() && t.conn->origin.empty()) t.conn->origin = detail::origin_of(t.url);
    if (auto evicted = cache_.put(std::move(t.conn))) evicted->transport->close(*evicted);
  } catch (const std::bad_alloc&) {
    t.conn->transport->close(*t.conn);  // no room to cache it: close instead
    t.conn.reset();
  }
}

}  // namespace msb
