// Multi's public face: the API forwarded to Impl, construction and teardown, adding and
// removing transfers, and the stats snapshot.
#include <algorithm>

#include "core/multi_impl.h"
#include "http1/request.h"
#include "msb/http_syntax.h"

namespace msb {

using detail::kNever;

const char* poll_name(int what) {
  switch (what) {
    case kPollNone:
      return "none";
    case kPollIn:
      return "in";
    case kPollOut:
      return "out";
    case kPollInOut:
      return "inout";
    case kPollRemove:
      return "remove";
  }
  return "invalid";
}

// ---------------------------------------------------------------- public API -> Impl

Multi::Multi(MultiOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Multi::~Multi() = default;
AddResult Multi::add(TransferSpec spec) {
  return impl_->add(std::move(spec));
}
bool Multi::remove(TransferId id) {
  return impl_->remove(id);
}
bool Multi::end_loop(TransferId id) {
  return impl_->end_loop(id);
}
int Multi::socket_action(int fd, int events) {
  return impl_->socket_action(fd, events);
}
void Multi::prefetch(int fd) noexcept {
  impl_->prefetch(fd);
}
int Multi::perform() {
  return impl_->perform();
}
long Multi::timeout() {
  return impl_->timeout();
}
std::optional<Done> Multi::info_read() {
  return impl_->info_read();
}
bool Multi::assign(int fd, void* socketp) {
  return impl_->assign(fd, socketp);
}
bool Multi::fdset(fd_set* r, fd_set* w, int* max_fd) {
  return impl_->fdset(r, w, max_fd);
}
void Multi::pollset(std::vector<pollfd>& out) {
  impl_->pollset(out);
}
int Multi::running() const {
  return impl_->running();
}
std::size_t Multi::sockets() const {
  return impl_->sockets();
}
MultiStats Multi::stats() const {
  return impl_->stats();
}
void Multi::reset_timing_stats() {
  impl_->reset_timing_stats();
}

// ---------------------------------------------------------------- construction

Multi::Impl::Impl(MultiOptions options)
    : opt_(std::move(options)),
      sys_(opt_.sys ? *opt_.sys : SysCalls::real()),
      index_(detail::make_sockindex(opt_.sockindex, opt_.sockindex_buckets)),
      clock_(opt_.clock ? *opt_.clock : Clock::real()),
      real_clock_(&clock_ == &Clock::real()),
      instrument_(opt_.instrument),
      recv_buffer_(16 * 1024),
      tcp_(sys_),
      timers_(detail::make_timer_queue(opt_.timers)),
      cache_(opt_.max_cached_connections) {}

Multi::Impl::~Impl() {
  tick();
  // c-ares first: it closes its own sockets (reporting REMOVE through resolver_socket).
  resolver_.reset();
  resolving_head_ = nullptr;
  resolving_count_ = 0;
  // Every socket still open is reported REMOVE before it is closed, as at any other time.
  for (auto& t : slots_) {
    if (t) close_connection(*t);
  }
  while (auto c = cache_.take_oldest()) c->transport->close(*c);
}

// ---------------------------------------------------------------- transfers

// Out of memory is a result like any other: add() refuses the transfer as such, and a
// transfer whose step needs memory it cannot get ends out_of_memory (step_guarded), while
// the others carry on. Each operation leaves the engine consistent if an allocation in it
// throws; the allocation-failure test fails every allocation of a workload in turn.
AddResult Multi::Impl::add(TransferSpec spec) {
  tick();
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
  const auto refuse = [&out](std::string why) {
    out.error = Result::bad_option;
    out.detail = std::move(why);
    return out;
  };
  std::string extra;
  bool has_host = false, has_length = false;
  for (const auto& h : spec.headers) {
    if (h.find_first_of("\r\n") != std::string::npos || h.find(':') == std::string::npos) {
      return refuse("request header '" + h.substr(0, 100) +
                    "' must be one 'Name: value' line without CR or LF");
    }
    has_host = has_host || detail::header_is(h, "host");
    has_length = has_length || detail::header_is(h, "content-length") ||
                 detail::header_is(h, "transfer-encoding");
    extra += h;
    extra += "\r\n";
  }
  if (spec.method.empty() || !is_token(spec.method)) {
    return refuse("method '" + spec.method.substr(0, 100) + "' is not an HTTP token");
  }
  if (spec.pipeline == 0) return refuse("pipeline must be at least 1");
  if (!spec.source_address.empty() && !detail::parse_ip(spec.source_address, 0)) {
    return refuse("source address '" + spec.source_address + "' is not an IP address");
  }
  if (parsed.url.tls && !tls_) {
    auto tls = std::make_unique<detail::TlsTransport>(sys_, opt_.tls);
    if (!tls->error().empty()) {
      refuse(tls->error());
      out.error = tls->error_code();
      return out;
    }
    tls_ = std::move(tls);
  }
  const bool plain = (spec.method == "GET" || spec.method == "HEAD") && !spec.body &&
                     spec.source_address.empty() && spec.requests == 1 && spec.pipeline == 1 &&
                     spec.think_time_ms == 0 && spec.reuse_connection && !has_host && !has_length;

  auto t = transfers_.make_owned();
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
  t->head = spec.method == "HEAD";
  if (!plain) {
    auto plan = std::make_unique<detail::RequestPlan>();
    if (spec.method != "GET") plan->method = spec.method;
    plan->body = std::move(spec.body);
    plan->source_address = std::move(spec.source_address);
    plan->requests = spec.requests;
    plan->pipeline = spec.pipeline;
    plan->think_time_ms = spec.think_time_ms;
    plan->reuse_connection = spec.reuse_connection;
    plan->has_host = has_host;
    plan->has_length = has_length;
    t->plan = std::move(plan);
  }
  t->url = std::move(parsed.url);
  t->extra_headers = std::move(extra);
  t->sink = std::move(spec.sink);
  t->has_sink = static_cast<bool>(t->sink);
  t->user = spec.user;
  t->connect_timeout_ms = spec.connect_timeout_ms;
  t->total_timeout_ms = spec.total_timeout_ms;
  t->low_speed_limit = spec.low_speed_limit;
  t->low_speed_time_ms = spec.low_speed_time_ms;
  t->timer.owner = t.get();
  out.id = t->id;

  // Like libcurl, adding only asks for an immediate timeout; the transfer starts in the
  // socket_action(kSocketTimeout) or perform() that follows.
  if (!free_slots_.empty() && free_slots_.back() == slot) free_slots_.pop_back();
  queue_start(*t);
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
  if (slots_[slot]->state == State::done) return nullptr;
  return slots_[slot].get();
}

bool Multi::Impl::remove(TransferId id) {
  tick();
  Transfer* t = lookup(id);
  if (!t) return false;
  if (t->state == State::resolving) stop_resolving(*t);
  if (t->state == State::init) unqueue_start(*t);
  close_connection(*t);
  ++stats_.transfers_removed;
  release_slot(*t);
  update_timer();
  return true;
}

bool Multi::Impl::end_loop(TransferId id) {
  tick();
  Transfer* t = lookup(id);
  if (!t) return false;
  if (!t->plan) return true;
  detail::RequestPlan& p = *t->plan;
  const bool in_flight =
      t->state == State::receiving || (t->state == State::sending && t->request_sent > 0);
  // A loop still opening the connection for its first request has had no outcome yet: it
  // makes that request, so it ends with what really happens (a refused certificate, say)
  // instead of an ok that nothing earned.
  const bool first_opening =
      t->answered == 0 && (t->state == State::resolving || t->state == State::connecting ||
                           t->state == State::handshaking || t->state == State::sending);
  if (in_flight || first_opening) {
    p.requests = t->answered + p.batch;  // the batch's responses, then the end
    return true;
  }
  if (t->state == State::init) {
    p.requests = 1;  // not started yet: one request, as if alone
    return true;
  }
  p.reuse_connection = false;
  finish(*t, Result::ok);
  update_timer();
  return true;
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
    s.dns_queued = r.queued;
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
