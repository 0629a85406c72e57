// The Multi's side of name resolution: c-ares' sockets go through the same socket index,
// socket callback and socket_action() as the transfers' own, and its deadline through the
// same timer queue.
//
// A c-ares socket carries every pending lookup, but its index entry lists no transfers:
// socket_action() hands its events to c-ares, which answers lookups by transfer id. The
// transfers waiting for a name are kept in one intrusive list instead, so joining and
// leaving it is O(1): a storm of N names used to add each resolving transfer as a waiter to
// every c-ares socket and drop it by a linear search, O(N^2) in all.
#include <algorithm>

#include "core/multi_impl.h"

namespace msb {

bool Multi::Impl::ensure_resolver() {
  if (resolver_) return true;
  detail::ResolverOptions o;
  o.servers = opt_.dns_servers;
  o.timeout_ms = opt_.dns_timeout_ms;
  o.cache_ttl_ms = opt_.dns_cache_ttl_ms;
  o.max_in_flight = opt_.dns_max_in_flight;
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

void Multi::Impl::start_resolving(Transfer& t) {
  t.wait_prev = nullptr;
  t.wait_next = resolving_head_;
  if (resolving_head_) resolving_head_->wait_prev = &t;
  resolving_head_ = &t;
  ++resolving_count_;
  // Every resolving transfer waits on c-ares' socket(s), as a waiter would.
  if (!resolver_fds_.empty()) {
    stats_.max_socket_waiters =
        std::max<std::uint64_t>(stats_.max_socket_waiters, resolving_count_);
  }
}

void Multi::Impl::stop_resolving(Transfer& t) {
  (t.wait_prev ? t.wait_prev->wait_next : resolving_head_) = t.wait_next;
  if (t.wait_next) t.wait_next->wait_prev = t.wait_prev;
  t.wait_prev = t.wait_next = nullptr;
  --resolving_count_;
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
      resolver_fds_.push_back(fd);  // reserved above: cannot throw
      stats_.max_socket_waiters =
          std::max<std::uint64_t>(stats_.max_socket_waiters, resolving_count_);
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
  if (!t || t->state != State::resolving) return;  // removed meanwhile
  // Called from inside c-ares (C frames): nothing may be thrown through it.
  try {
    continue_resolved(*t, result, std::move(addresses));
  } catch (const std::bad_alloc&) {
    finish(*t, Result::out_of_memory);
  }
}

void Multi::Impl::continue_resolved(Transfer& t, Result result,
                                    std::vector<detail::ResolvedAddress> addresses) {
  const std::int64_t took = now_ - t.start_ns;
  stats_.resolve_ns.record(static_cast<std::uint64_t>(took));
  if (result != Result::ok) return finish(t, result);
  t.timings.resolve_us = took / 1000;
  t.addresses = std::move(addresses);
  t.next_address = 0;
  connect_next(t);  // its first state change leaves the resolver's list
}

void Multi::Impl::resolver_timer(std::int64_t deadline) {
  if (resolver_timer_.queued) {
    if (resolver_timer_.key == deadline) return;
    unqueue_timer(&resolver_timer_);
  }
  if (deadline != detail::kNever) queue_timer(&resolver_timer_, deadline);
}

}  // namespace msb
