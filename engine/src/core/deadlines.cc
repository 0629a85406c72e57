// Deadlines: each transfer's nearest one sits in the timer queue (the rest wait in its own
// short list, Transfer::deadline), and the application holds one timer for the nearest of
// all, told through the timer callback only when it changes.
#include <algorithm>

#include "core/multi_impl.h"

namespace msb {

using detail::kExpireConnect;
using detail::kExpireLowSpeed;
using detail::kExpireTotal;
using detail::kNever;
using detail::kNsPerMs;

namespace {
// Milliseconds from now until `deadline`, rounded up (waking early would spin), 0 if due.
long ms_until(std::int64_t deadline, std::int64_t now) {
  const std::int64_t d = deadline - now;
  return d <= 0 ? 0 : static_cast<long>((d + kNsPerMs - 1) / kNsPerMs);
}
}  // namespace

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
    unqueue_timer(&t.timer);
  }
  if (nearest != kNever) queue_timer(&t.timer, nearest);
}

void Multi::Impl::queue_start(Transfer& t) {
  if (!starting_head_) starting_since_ = now_;
  deadlines_changed_ = true;
  t.wait_next = nullptr;
  t.wait_prev = starting_tail_;
  (starting_tail_ ? starting_tail_->wait_next : starting_head_) = &t;
  starting_tail_ = &t;
}

// Idempotent: a transfer in init is in the list unless start_queued() took it out.
void Multi::Impl::unqueue_start(Transfer& t) {
  if (!t.wait_prev && starting_head_ != &t) return;
  deadlines_changed_ = true;
  (t.wait_prev ? t.wait_prev->wait_next : starting_head_) = t.wait_next;
  (t.wait_next ? t.wait_next->wait_prev : starting_tail_) = t.wait_prev;
  t.wait_prev = t.wait_next = nullptr;
}

// Starts every transfer added so far, in the order they were added (and those a callback
// adds meanwhile). Before this list, each waited in the timer queue at the time it was added:
// two more timer operations per transfer (gate workload: 4 -> 2 per transfer, 1171.6 ->
// 1167.7 instructions per socket_action), and a transfer's deadline array one entry shorter.
void Multi::Impl::start_queued() {
  while (Transfer* t = starting_head_) {
    unqueue_start(*t);
    try {
      start(*t);
    } catch (const std::bad_alloc&) {
      finish(*t, Result::out_of_memory);
    }
  }
}

void Multi::Impl::queue_timer(detail::TimerNode* node, std::int64_t key) {
  timers_->insert(node, key);
  timers_floor_ = std::min(timers_floor_, key);
  deadlines_changed_ = true;
}

void Multi::Impl::run_timers() {
  while (detail::TimerNode* node = timers_->pop_expired(now_)) {
    if (node->owner) {
      Transfer& t = *static_cast<Transfer*>(node->owner);
      try {
        on_expired(t);
      } catch (const std::bad_alloc&) {
        finish(t, Result::out_of_memory);
      }
    } else if (resolver_) {
      resolver_->on_timeout();
    }
  }
  timers_floor_ = timers_->nearest();
  deadlines_changed_ = true;
}

void Multi::Impl::on_expired(Transfer& t) {
  // Deadlines in the order they matter: a transfer past its total timeout fails as such
  // even if its low-speed window ended in the same tick.
  if (t.deadline[kExpireTotal] <= now_) {
    t.expired = Expired::total;
    return finish(t, Result::timed_out);
  }
  if (t.deadline[kExpireConnect] <= now_) {
    t.expired = t.state == State::handshaking ? Expired::tls_handshake : Expired::connect;
    return finish(t, Result::timed_out);
  }
  if (t.deadline[kExpireLowSpeed] <= now_) {
    const double window_s = double(now_ - t.window_start_ns) / 1e9;
    const double rate = double(t.received - t.window_received) / window_s;
    if (rate < double(t.low_speed_limit)) {
      t.expired = Expired::low_speed;
      return finish(t, Result::timed_out);
    }
    t.window_start_ns = now_;
    t.window_received = t.received;
    t.deadline[kExpireLowSpeed] = now_ + std::int64_t{t.low_speed_time_ms} * kNsPerMs;
  }
  if (t.deadline[detail::kExpireThink] <= now_) {
    t.deadline[detail::kExpireThink] = kNever;
    if (t.state == State::thinking) return end_thinking(t);
  }
  requeue(t);
}

// The nearest deadline of all: the timer queue's, or at once when transfers wait to start.
std::int64_t Multi::Impl::nearest_deadline() const {
  const std::int64_t nearest = timers_->nearest();
  return starting_head_ ? std::min(nearest, starting_since_) : nearest;
}

// Tells the application about the nearest deadline, only when it changed (libcurl's
// Curl_update_timer).
void Multi::Impl::update_timer() {
  if (!deadlines_changed_) return;
  deadlines_changed_ = false;
  if (!opt_.timer_fn) return;
  const std::int64_t nearest = nearest_deadline();
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
  ++stats_.timer_callbacks;
  opt_.timer_fn(ms_until(nearest, now_));
}

long Multi::Impl::timeout() {
  const std::int64_t nearest = nearest_deadline();
  if (nearest == kNever) return -1;
  return ms_until(nearest, tick());
}

}  // namespace msb
