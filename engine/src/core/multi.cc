// Multi's dispatch side: the public API, socket_action/perform, the socket and timer
// callbacks, and deadlines. The per-transfer state machine is in transfer_steps.cc.
#include <algorithm>
#include <cassert>

#include "core/clock.h"
#include "core/multi_impl.h"

namespace msb {

using detail::kNever;
using detail::now_ns;

const char* poll_name(int what) {
  switch (what) {
    case kPollNone: return "none";
    case kPollIn: return "in";
    case kPollOut: return "out";
    case kPollInOut: return "inout";
    case kPollRemove: return "remove";
  }
  return "invalid";
}

// ---------------------------------------------------------------- public API -> Impl

Multi::Multi(MultiOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Multi::~Multi() = default;
AddResult Multi::add(TransferSpec spec) { return impl_->add(std::move(spec)); }
bool Multi::remove(TransferId id) { return impl_->remove(id); }
int Multi::socket_action(int fd, int events) { return impl_->socket_action(fd, events); }
int Multi::perform() { return impl_->perform(); }
long Multi::timeout() { return impl_->timeout(); }
std::optional<Done> Multi::info_read() { return impl_->info_read(); }
bool Multi::assign(int fd, void* socketp) { return impl_->assign(fd, socketp); }
bool Multi::fdset(fd_set* r, fd_set* w, int* max_fd) { return impl_->fdset(r, w, max_fd); }
void Multi::pollset(std::vector<pollfd>& out) { impl_->pollset(out); }
int Multi::running() const { return impl_->running(); }
std::size_t Multi::sockets() const { return impl_->sockets(); }
MultiStats Multi::stats() const { return impl_->stats(); }
void Multi::reset_timing_stats() { impl_->reset_timing_stats(); }

// ---------------------------------------------------------------- construction

Multi::Impl::Impl(MultiOptions options)
    : opt_(std::move(options)),
      sys_(opt_.sys ? *opt_.sys : SysCalls::real()),
      index_(detail::make_sockindex(opt_.sockindex, opt_.sockindex_buckets)),
      timers_(detail::make_timer_queue(opt_.timers)),
      cache_(opt_.max_cached_connections),
      recv_buffer_(16 * 1024) {
  stats_.by_result.assign(kResultCount, 0);
}

Multi::Impl::~Impl() {
  // c-ares first: it closes its own sockets (reporting REMOVE through resolver_socket).
  resolver_.reset();
  resolving_.clear();
  // Every socket still open is reported REMOVE before it is closed, as at any other time.
  for (auto& t : slots_) {
    if (t) close_connection(*t);
  }
  while (auto c = cache_.take_oldest()) close_fd(c->fd);
}

// ---------------------------------------------------------------- transfers

// Out of memory is a result like any other: add() refuses the transfer as such, and a
// transfer whose step needs memory it cannot get ends out_of_memory (step_guarded), while
// the others carry on. Each operation leaves the engine consistent if an allocation in it
// throws; the allocation-failure test fails every allocation of a workload in turn.
AddResult Multi::Impl::add(TransferSpec spec) {
  try {
    return add_or_throw(std::move(spec));
  } catch (const std::bad_alloc&) {
    AddResult out;
    out.error = Result::out_of_memory;
    out.detail = "out of memory";
    return out;
  }
}

AddResult Multi::Impl::add_or_throw(TransferSpec spec) {
  AddResult out;
  auto parsed = detail::parse_url(spec.url);
  if (parsed.error != Result::ok) {
    out.error = parsed.error;
    out.detail = std::move(parsed.detail);
    return out;
  }
  std::string extra;
  for (const auto& h : spec.headers) {
    if (h.find_first_of("\r\n") != std::string::npos || h.find(':') == std::string::npos) {
      out.error = Result::bad_option;
      out.detail = "request header '" + h.substr(0, 100) +
                   "' must be one 'Name: value' line without CR or LF";
      return out;
    }
    extra += h;
    extra += "\r\n";
  }

  auto t = std::make_unique<Transfer>();
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
  } else {
    // Room in the free list for every slot, so that releasing one never allocates.
    free_slots_.reserve(slots_.size() + 1);
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  // The serial in the high bits makes every id unique for the Multi's life; the slot in
  // the low bits makes remove(id) a direct index.
  t->id = (++serial_ << 32) | slot;
  t->slot = slot;
  t->method = spec.method;
  t->url = std::move(parsed.url);
  t->extra_headers = std::move(extra);
  t->sink = std::move(spec.sink);
  t->user = spec.user;
  t->connect_timeout_ms = spec.connect_timeout_ms;
  t->total_timeout_ms = spec.total_timeout_ms;
  t->low_speed_limit = spec.low_speed_limit;
  t->low_speed_time_ms = spec.low_speed_time_ms;
  t->timer.owner = t.get();
  out.id = t->id;

  // Like libcurl, adding only asks for an immediate timeout; the transfer starts in the
  // socket_action(kSocketTimeout) or perform() that follows. Queued before the transfer is
  // committed: if the timer queue cannot grow, nothing has changed yet.
  set_expire(*t, detail::kExpireStart, now_ns());
  if (!free_slots_.empty() && free_slots_.back() == slot) free_slots_.pop_back();
  slots_[slot] = std::move(t);
  ++live_;
  ++stats_.transfers_added;
  update_timer();
  return out;
}

detail::Transfer* Multi::Impl::lookup(TransferId id) {
  const auto slot = static_cast<std::uint32_t>(id & 0xffffffffu);
  if (slot >= slots_.size() || !slots_[slot] || slots_[slot]->id != id) return nullptr;
  // A finished transfer still in its slot is only waiting for info_read().
  if (slots_[slot]->state == detail::TransferState::done) return nullptr;
  return slots_[slot].get();
}

void Multi::Impl::release_slot(Transfer& t) {
  --live_;
  free_slot(t);
}

void Multi::Impl::free_slot(Transfer& t) {
  if (t.timer.queued) timers_->remove(&t.timer);
  const std::uint32_t slot = t.slot;
  slots_[slot].reset();
  free_slots_.push_back(slot);  // reserved by add(): cannot throw
}

bool Multi::Impl::remove(TransferId id) {
  Transfer* t = lookup(id);
  if (!t) return false;
  if (t->state == detail::TransferState::resolving) stop_resolving(*t);
  close_connection(*t);
  ++stats_.transfers_removed;
  release_slot(*t);
  update_timer();
  return true;
}

// ---------------------------------------------------------------- driving

int Multi::Impl::socket_action(int fd, int events) {
  const std::int64_t t0 = opt_.instrument ? now_ns() : 0;
  ++stats_.socket_action_calls;
  if (fd == kSocketTimeout) {
    timer_armed_ = false;  // the application's one-shot timer has fired
  } else if (detail::SockEntry* e = index_->find(fd)) {
    if (e->resolver_want) {
      // c-ares' socket: one pass of c-ares answers whichever lookups the bytes complete,
      // waking every transfer that waited on them (and maybe closing this socket).
      resolver_->process(fd, events);
    } else if (!e->more.empty()) {
      // Several transfers share the socket; stepping one may end it and change the list.
      waiting_.clear();
      waiting_.push_back(e->first.transfer->id);
      for (const auto& w : e->more) waiting_.push_back(w.transfer->id);
      for (TransferId id : waiting_) {
        if (Transfer* t = lookup(id)) step_guarded(*t, fd, events);
      }
    } else if (e->first.transfer) {
      step_guarded(*e->first.transfer, fd, events);
    }
  }
  // As libcurl does, also act on anything already due: the application's timer may be
  // late, and a busy socket must not starve the deadlines.
  run_expired(now_ns());
  fail_refused();
  update_timer();
  if (opt_.instrument) {
    const auto dt = static_cast<std::uint64_t>(now_ns() - t0);
    (fd == kSocketTimeout ? stats_.socket_action_timer_ns : stats_.socket_action_socket_ns)
        .record(dt);
  }
  return running();
}

int Multi::Impl::perform() {
  const std::int64_t t0 = opt_.instrument ? now_ns() : 0;
  ++stats_.perform_calls;
  // c-ares' sockets too, ready or not.
  if (resolver_) {
    const std::vector<int> fds = resolver_fds_;
    for (int fd : fds) resolver_->process(fd, 0);
  }
  // The O(n) walk on purpose: every transfer is stepped, ready or not.
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Transfer* t = slots_[i].get();
    if (t && t->state != detail::TransferState::init) step_guarded(*t, -1, 0);
  }
  run_expired(now_ns());
  fail_refused();
  timer_armed_ = false;  // perform() users poll timeout() rather than hold a timer
  update_timer();
  if (opt_.instrument) stats_.perform_ns.record(static_cast<std::uint64_t>(now_ns() - t0));
  return running();
}

long Multi::Impl::timeout() {
  const std::int64_t nearest = timers_->nearest();
  if (nearest == kNever) return -1;
  const std::int64_t d = nearest - now_ns();
  return d <= 0 ? 0 : static_cast<long>((d + detail::kNsPerMs - 1) / detail::kNsPerMs);
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

// ---------------------------------------------------------------- deadlines

void Multi::Impl::set_expire(Transfer& t, detail::ExpireId id, std::int64_t when) {
  t.deadline[id] = when;
  requeue(t);
}

void Multi::Impl::clear_expire(Transfer& t, detail::ExpireId id) {
  if (t.deadline[id] == kNever) return;
  t.deadline[id] = kNever;
  requeue(t);
}

// Puts the transfer's nearest deadline (only that one) into the timer queue.
void Multi::Impl::requeue(Transfer& t) {
  const std::int64_t nearest = *std::min_element(t.deadline.begin(), t.deadline.end());
  if (t.timer.queued) {
    if (t.timer.key == nearest) return;
    timers_->remove(&t.timer);
  }
  if (nearest != kNever) timers_->insert(&t.timer, nearest);
}

void Multi::Impl::run_expired(std::int64_t now) {
  while (detail::TimerNode* node = timers_->pop_expired(now)) {
    if (node->owner) {
      Transfer& t = *static_cast<Transfer*>(node->owner);
      try {
        on_expired(t, now);
      } catch (const std::bad_alloc&) {
        finish(t, Result::out_of_memory);
      }
    } else if (resolver_) {
      resolver_->on_timeout();
    }
  }
}

// Tells the application about the nearest deadline, only when it changed (libcurl's
// Curl_update_timer).
void Multi::Impl::update_timer() {
  if (!opt_.timer_fn) return;
  const std::int64_t nearest = timers_->nearest();
  if (nearest == kNever) {
    if (timer_armed_) {
      timer_armed_ = false;
      ++stats_.timer_callbacks;
      opt_.timer_fn(-1);
    }
    return;
  }
  if (timer_armed_ && nearest == timer_deadline_) return;
  timer_armed_ = true;
  timer_deadline_ = nearest;
  const std::int64_t d = nearest - now_ns();
  const long ms = d <= 0 ? 0 : static_cast<long>((d + detail::kNsPerMs - 1) / detail::kNsPerMs);
  ++stats_.timer_callbacks;
  opt_.timer_fn(ms);
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
  if (opt_.socket_fn(e.fd, w == kPollNone ? kPollRemove : w, e.socketp) != 0 && w != kPollNone) {
    // Refused: the waiters fail once the current call has finished stepping them (they
    // may be mid-step right now).
    if (e.first.transfer) refused_.push_back(e.first.transfer->id);
    for (const auto& m : e.more) refused_.push_back(m.transfer->id);
  }
}

void Multi::Impl::close_fd(int fd) { sys_.close(fd); }

void Multi::Impl::close_connection(Transfer& t) {
  if (!t.conn) return;
  unwatch(t);
  close_fd(t.conn->fd);
  t.conn.reset();
}

void Multi::Impl::cache_or_close(Transfer& t) {
  if (!t.conn) return;
  unwatch(t);
  try {
    if (auto evicted = cache_.put(std::move(t.conn))) close_fd(evicted->fd);
  } catch (const std::bad_alloc&) {
    close_fd(t.conn->fd);  // no room to cache it: close instead
    t.conn.reset();
  }
}

// ---------------------------------------------------------------- name resolution

bool Multi::Impl::ensure_resolver() {
  if (resolver_) return true;
  detail::ResolverOptions o;
  o.servers = opt_.dns_servers;
  o.timeout_ms = opt_.dns_timeout_ms;
  o.cache_ttl_ms = opt_.dns_cache_ttl_ms;
  try {
    detail::Resolver::Host& host = *this;
    resolver_ = std::make_unique<detail::Resolver>(host, o);
  } catch (const std::bad_alloc&) {
    throw;  // out of memory, not a bad server list: the transfer ends out_of_memory
  } catch (const std::exception&) {
    return false;  // c-ares could not start (a bad server list): lookups fail as such
  }
  return true;
}

// A resolving transfer waits on every c-ares socket: any of them may bring its answer.
void Multi::Impl::start_resolving(Transfer& t) {
  resolving_.insert(&t);
  for (int fd : resolver_fds_) {
    if (detail::SockEntry* e = index_->find(fd)) {
      e->add_waiter(&t);
      stats_.max_socket_waiters = std::max<std::uint64_t>(stats_.max_socket_waiters, e->waiter_count());
    }
  }
}

void Multi::Impl::stop_resolving(Transfer& t) {
  resolving_.erase(&t);
  for (int fd : resolver_fds_) {
    if (detail::SockEntry* e = index_->find(fd)) e->drop_waiter(&t);
  }
}

bool Multi::Impl::resolver_socket(int fd, int want) {
  detail::SockEntry* e = index_->find(fd);
  if (want == 0) {
    if (!e) return true;
    // c-ares is about to close it: REMOVE first, as for any socket.
    if (e->reported != kPollNone) {
      ++stats_.socket_callbacks;
      if (opt_.socket_fn) opt_.socket_fn(fd, kPollRemove, e->socketp);
    }
    index_->erase(fd);
    resolver_fds_.erase(std::remove(resolver_fds_.begin(), resolver_fds_.end(), fd),
                        resolver_fds_.end());
    return true;
  }
  // Nothing may be thrown from here (c-ares' C frames are below): a failed allocation is
  // reported to the resolver, which fails its lookups; c-ares then closes the socket, and
  // the REMOVE above drops whatever entry was made.
  try {
    if (!e) {
      resolver_fds_.reserve(resolver_fds_.size() + 1);
      e = &index_->insert(fd);
      try {
        for (Transfer* t : resolving_) e->add_waiter(t);
      } catch (const std::bad_alloc&) {
        index_->erase(fd);
        throw;
      }
      resolver_fds_.push_back(fd);  // reserved above: cannot throw
      stats_.max_socket_waiters = std::max<std::uint64_t>(stats_.max_socket_waiters, e->waiter_count());
    }
    e->resolver_want = want;
    sync_socket(*e);  // a refusal by the application fails the waiters (watch_failed)
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

void Multi::Impl::resolved(TransferId id, Result result,
                           std::vector<detail::ResolvedAddress> addresses) {
  Transfer* t = lookup(id);
  if (!t || t->state != detail::TransferState::resolving) return;  // removed meanwhile
  // Called from inside c-ares (C frames): nothing may be thrown through it.
  try {
    continue_resolved(*t, result, std::move(addresses));
  } catch (const std::bad_alloc&) {
    finish(*t, Result::out_of_memory);
  }
}

void Multi::Impl::continue_resolved(Transfer& t_ref, Result result,
                                    std::vector<detail::ResolvedAddress> addresses) {
  Transfer* t = &t_ref;
  stop_resolving(*t);
  const std::int64_t took = now_ns() - t->start_ns;
  stats_.resolve_ns.record(static_cast<std::uint64_t>(took));
  if (result != Result::ok) return finish(*t, result);
  t->timings.resolve_us = took / 1000;
  t->addresses = std::move(addresses);
  t->next_address = 0;
  connect_next(*t);
}

void Multi::Impl::resolver_timer(std::int64_t deadline) {
  if (resolver_timer_.queued) {
    if (resolver_timer_.key == deadline) return;
    timers_->remove(&resolver_timer_);
  }
  if (deadline != kNever) timers_->insert(&resolver_timer_, deadline);
}

// ---------------------------------------------------------------- stats

MultiStats Multi::Impl::stats() const {
  MultiStats s = stats_;
  s.sockindex = index_->stats();
  s.timers = timers_->stats();
  s.running = live_;
  if (resolver_) {
    const auto& r = resolver_->stats();
    s.dns_lookups = r.lookups;
    s.dns_joined = r.joined;
    s.dns_cache_hits = r.cache_hits;
    s.dns_failures = r.failures;
  }
  return s;
}

void Multi::Impl::reset_timing_stats() {
  stats_.socket_action_socket_ns.reset();
  stats_.socket_action_timer_ns.reset();
  stats_.perform_ns.reset();
}

}  // namespace msb
