// Completion: a transfer ends in finish(), exactly once, with one Result; its record (Done)
// waits in a queue for info_read(), and the transfer's slot is released at once (unlike
// libcurl, whose easy handles wait for curl_multi_remove_handle).
#include "core/multi_impl.h"

namespace msb {

namespace {

// What info_read() reports for `t`, ended with `result` at `now`.
Done done_record(const detail::Transfer& t, Result result, int os_error, std::int64_t now) {
  Done d;
  d.id = t.id;
  d.result = result;
  d.expired = result == Result::timed_out ? t.expired : Expired::none;
  d.os_error = os_error;
  d.http_status = t.parser.status();
  d.responses = t.answered;
  // Completed responses are in the totals; a response cut short adds what it delivered.
  const bool partial = !t.parser.complete();
  d.body_bytes = t.body_total + (partial ? t.parser.body_bytes() : 0);
  d.header_bytes = t.header_total + (partial ? t.parser.header_bytes() : 0);
  d.reused_connection = t.reused;
  if (t.conn) {
    d.tls_error = t.conn->tls_error;
    d.tls_verify = t.conn->tls_verify;
  }
  d.timings = t.timings;
  d.timings.total_us = t.start_ns ? (now - t.start_ns) / 1000 : 0;
  d.start_ns = t.start_ns;
  d.end_ns = now;
  d.user = t.user;
  return d;
}

}  // namespace

// Never throws: it runs in the handlers that catch a failed allocation, so it must not need
// memory itself. The Done queue's one allocation may fail; then the transfer keeps its slot
// and its result, parked for info_read() (which hands out queued records first).
void Multi::Impl::finish(Transfer& t, Result result, int os_error) {
  bool queued = true;
  try {
    done_.push_back(done_record(t, result, os_error, now_));
  } catch (const std::bad_alloc&) {
    queued = false;
  }
  t.result = result;
  t.os_error = os_error;
  set_state(t, State::done);  // leaves the resolver's list, caches or closes the connection
  ++stats_.transfers_done;
  ++stats_.by_result[static_cast<std::size_t>(result)];
  if (queued) return release_slot(t);  // t is gone after this
  --live_;
  if (t.timer.queued) unqueue_timer(&t.timer);
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
    Done d = done_record(*t, t->result, t->os_error, now_);
    d.timings.total_us = t->timings.total_us;  // as it was when the transfer finished
    d.end_ns = d.start_ns + d.timings.total_us * 1000;
    free_slot(*t);
    return d;
  }
  return std::nullopt;
}

void Multi::Impl::release_slot(Transfer& t) {
  --live_;
  free_slot(t);
}

void Multi::Impl::free_slot(Transfer& t) {
  if (t.timer.queued) unqueue_timer(&t.timer);
  const std::uint32_t slot = t.slot;
  slots_[slot].reset();
  free_slots_.push_back(slot);  // reserved by add(): cannot throw
}

}  // namespace msb
