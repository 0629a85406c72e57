#include "dns/resolver.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>

#include "core/clock.h"
#include "msb/events.h"

namespace msb::detail {

namespace {

Result result_of(int status) {
  switch (status) {
    case ARES_SUCCESS:
      return Result::ok;
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
    case ARES_ENONAME:
      return Result::couldnt_resolve;
    case ARES_ETIMEOUT:
      return Result::resolve_timed_out;
    case ARES_ENOMEM:
      return Result::out_of_memory;
    default:
      return Result::resolve_server_failed;  // SERVFAIL, REFUSED, bad replies, ...
  }
}

}  // namespace

Resolver::Resolver(Host& host, const ResolverOptions& options) : host_(host), options_(options) {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
  ares_options o{};
  o.sock_state_cb = &Resolver::on_sock_state;
  o.sock_state_cb_data = this;
  // Three tries: a lookup lost in a full UDP buffer (a storm of thousands at once) is sent
  // again. c-ares doubles the wait per round (t, 2t, 4t), so t = timeout / 7 keeps the
  // whole lookup within timeout_ms.
  o.tries = 3;
  o.timeout = static_cast<int>(std::max<std::uint32_t>(1, options.timeout_ms / 7));
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (const int rc = ares_init_options(&channel_, &o, mask); rc != ARES_SUCCESS) {
    throw std::runtime_error(std::string("c-ares: ") + ares_strerror(rc));
  }
  if (!options.servers.empty()) {
    if (const int rc = ares_set_servers_ports_csv(channel_, options.servers.c_str());
        rc != ARES_SUCCESS) {
      ares_destroy(channel_);
      throw std::runtime_error("c-ares: bad DNS server list '" + options.servers +
                               "': " + ares_strerror(rc));
    }
  }
}

Resolver::~Resolver() {
  shutting_down_ = true;
  ares_destroy(channel_);  // answers every pending lookup with ARES_EDESTRUCTION
  for (auto& [name, lookup] : pending_) delete lookup;
}

void Resolver::resolve(const std::string& name, std::uint16_t port, TransferId id) {
  if (auto it = cache_.find(name); it != cache_.end()) {
    if (it->second.expires > host_.resolver_now()) {
      ++stats_.cache_hits;
      std::vector<ResolvedAddress> out = it->second.addresses;
      for (auto& a : out) reinterpret_cast<sockaddr_in*>(&a.addr)->sin_port = htons(port);
      host_.resolved(id, Result::ok, std::move(out));  // sin6_port sits at the same offset
      return;
    }
    cache_.erase(it);
  }
  if (auto it = pending_.find(name); it != pending_.end()) {
    ++stats_.joined;
    it->second->waiters.emplace_back(id, port);
    return;
  }
  // Owned until it is pending (and queued, if it must wait): if a container cannot grow,
  // nothing leaks and nothing is half-registered.
  auto owned = std::make_unique<Lookup>(Lookup{this, name, {{id, port}}});
  const bool wait = in_flight_ >= std::max<std::uint32_t>(1, options_.max_in_flight);
  if (wait) queued_.push_back(owned.get());
  try {
    pending_[name] = owned.get();
  } catch (...) {
    if (wait) queued_.pop_back();
    throw;
  }
  Lookup* lookup = owned.release();
  if (wait) {
    ++stats_.queued;
  } else {
    send(lookup);
  }
  send_queued();
  fail_if_socket_lost();
  rearm_timer();
}

void Resolver::send(Lookup* lookup) {
  ++in_flight_;
  ++stats_.lookups;
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // The answer may come before this returns (answer() then runs already).
  ares_getaddrinfo(channel_, lookup->name.c_str(), nullptr, &hints, &Resolver::on_answer, lookup);
}

// Sends queued lookups while there is room; called once c-ares has returned, never from
// inside one of its callbacks.
void Resolver::send_queued() {
  while (!queued_.empty() && in_flight_ < std::max<std::uint32_t>(1, options_.max_in_flight)) {
    Lookup* lookup = queued_.front();
    queued_.pop_front();
    send(lookup);
  }
}

void Resolver::on_answer(void* arg, int status, int, struct ares_addrinfo* result) {
  auto* lookup = static_cast<Lookup*>(arg);
  lookup->owner->answer(lookup, status, result);
}

void Resolver::answer(Lookup* lookup, int status, struct ares_addrinfo* result) {
  if (shutting_down_) {
    if (result) ares_freeaddrinfo(result);
    return;
  }
  pending_.erase(lookup->name);
  --in_flight_;
  // This runs inside c-ares (C frames): an allocation that fails must become a result, not
  // an exception thrown through them.
  std::vector<ResolvedAddress> addresses;
  std::int64_t ttl_ms = options_.cache_ttl_ms;
  Result r = status == ARES_ECANCELLED && cancelling_for_memory_ ? Result::out_of_memory
                                                                 : result_of(status);
  try {
    if (status == ARES_SUCCESS && result) {
      for (ares_addrinfo_node* n = result->nodes; n; n = n->ai_next) {
        if (n->ai_addrlen > sizeof(sockaddr_storage)) continue;
        ResolvedAddress a{};
        std::memcpy(&a.addr, n->ai_addr, n->ai_addrlen);
        a.len = static_cast<socklen_t>(n->ai_addrlen);
        addresses.push_back(a);
        ttl_ms = std::min<std::int64_t>(ttl_ms, std::int64_t{n->ai_ttl} * 1000);
      }
    }
  } catch (const std::bad_alloc&) {
    addresses.clear();
    r = Result::out_of_memory;
  }
  if (result) ares_freeaddrinfo(result);
  if (r == Result::ok && addresses.empty()) r = Result::couldnt_resolve;
  if (r == Result::ok) {
    try {
      if (ttl_ms > 0) {
        cache_[lookup->name] = CacheEntry{addresses, host_.resolver_now() + ttl_ms * kNsPerMs};
      }
    } catch (const std::bad_alloc&) {
      // Not cached: the answer still goes to its waiters.
    }
  } else {
    ++stats_.failures;
  }
  // Hand the answer to every transfer that waited for it; the lookup is gone first, as
  // answering may start new lookups.
  const auto waiters = std::move(lookup->waiters);
  delete lookup;
  for (const auto& [id, port] : waiters) {
    std::vector<ResolvedAddress> out;
    Result mine = r;
    try {
      out = addresses;
    } catch (const std::bad_alloc&) {
      mine = Result::out_of_memory;
    }
    for (auto& a : out) reinterpret_cast<sockaddr_in*>(&a.addr)->sin_port = htons(port);
    host_.resolved(id, mine, std::move(out));  // the Multi catches its own failures
  }
}

void Resolver::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<Resolver*>(data);
  if (self->shutting_down_) return;
  const int want = (readable ? kPollIn : 0) | (writable ? kPollOut : 0);
  // Inside c-ares (C frames): a socket that cannot be watched is only noted here.
  if (!self->host_.resolver_socket(fd, want)) self->socket_lost_ = true;
}

// After each call into c-ares: if one of its sockets could not be watched, the lookups on
// it would wait for answers nobody reads until they time out. c-ares cannot cancel per
// socket, so every pending lookup ends out_of_memory now, and c-ares closes its sockets.
void Resolver::fail_if_socket_lost() {
  if (!socket_lost_) return;
  socket_lost_ = false;
  cancelling_for_memory_ = true;
  ares_cancel(channel_);
  cancelling_for_memory_ = false;
}

void Resolver::process(int fd, int events) {
  const bool read = events == 0 || (events & (kEventIn | kEventErr));
  const bool write = events == 0 || (events & kEventOut);
  ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD, write ? fd : ARES_SOCKET_BAD);
  fail_if_socket_lost();
  send_queued();
  fail_if_socket_lost();
  rearm_timer();
}

void Resolver::on_timeout() {
  ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  fail_if_socket_lost();
  send_queued();
  fail_if_socket_lost();
  rearm_timer();
}

void Resolver::rearm_timer() {
  if (in_flight_ == 0) {
    host_.resolver_timer(kNever);
    return;
  }
  timeval tv{};
  if (!ares_timeout(channel_, nullptr, &tv)) {
    host_.resolver_timer(kNever);
    return;
  }
  host_.resolver_timer(host_.resolver_now() + std::int64_t{tv.tv_sec} * 1'000'000'000 +
                       std::int64_t{tv.tv_usec} * 1000);
}

}  // namespace msb::detail
