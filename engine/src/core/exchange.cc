// The exchange on an open connection: sending the request (or a loop's batch of pipelined
// requests), reading the responses, and what follows a response: the next response of the
// batch, the next batch (at once, or after the think time), a new connection when the
// server closes this one, or the end of the transfer.
#include <algorithm>

#include "core/multi_impl.h"
#include "http1/request.h"
#include "transport/transport.h"

namespace msb {

using detail::IoResult;
using detail::kExpireConnect;
using detail::kExpireThink;
using detail::kExpireTotal;
using detail::kNsPerMs;

namespace {

// A body up to this size is copied into the request text, so that a request (or a whole
// pipelined batch) goes out in one send(); a larger one is sent from the shared body.
constexpr std::size_t kMergeBodyBelow = 16 * 1024;

void body_to_sink(void* ctx, const char* data, std::size_t len) {
  auto* t = static_cast<detail::Transfer*>(ctx);
  if (t->sink) t->sink(t->id, data, len);
}

// Requests in the next batch: the pipeline depth, or what is left of the loop.
std::uint32_t next_batch_size(const detail::Transfer& t) {
  if (!t.plan) return 1;
  const detail::RequestPlan& p = *t.plan;
  if (p.requests == 0) return p.pipeline;
  return std::min(p.pipeline, p.requests - t.answered);
}

// A planned request's text (with a small body merged in, and repeated for a pipelined
// batch): its own, as its loop and body are.
std::shared_ptr<const std::string> planned_request_text(detail::Transfer& t) {
  detail::RequestPlan& p = *t.plan;
  detail::RequestHead h;
  h.url = &t.url;
  h.extra_headers = t.extra_headers;
  h.method = p.method;
  h.has_host = p.has_host;
  h.has_length = p.has_length;
  if (p.body) {
    h.content_length = static_cast<std::int64_t>(p.body->size());
  } else if (detail::method_expects_content(p.method)) {
    h.content_length = 0;
  }
  std::string text;
  detail::append_request_head(text, h);
  p.body_merged = p.body && p.body->size() <= kMergeBodyBelow;
  if (p.body_merged) text.append(*p.body);
  p.unit = text.size() + (p.body && !p.body_merged ? p.body->size() : 0);
  if ((p.body_merged || !p.body) && p.pipeline > 1) {
    // Copies of one request: a batch of k sends the first k of them.
    const std::string one = text;
    text.reserve(one.size() * p.pipeline);
    for (std::uint32_t i = 1; i < p.pipeline; ++i) text.append(one);
  }
  return std::make_shared<const std::string>(std::move(text));
}

}  // namespace

// ---------------------------------------------------------------- sending

// The connection is ready for HTTP: the batch is prepared and the parser made ready for its
// first response. send_request() follows.
void Multi::Impl::enter_sending(Transfer& t) {
  if (!t.request) {
    t.request =
        t.plan ? planned_request_text(t) : shared_requests_.get(t.url, t.head, t.extra_headers);
  }
  if (t.plan) {
    t.plan->batch = next_batch_size(t);
    t.plan->batch_done = 0;
  }
  t.request_sent = 0;
  t.sent_ns = now_;
  t.first_byte_ns = 0;
  t.parser.reset(t.head);
}

void Multi::Impl::send_request(Transfer& t) {
  const detail::RequestPlan* p = t.plan.get();
  const bool separate_body = p && p->body && !p->body_merged;
  const std::string& request = *t.request;
  const std::size_t total = p ? p->unit * p->batch : request.size();
  while (t.request_sent < total) {
    const char* data = request.data() + t.request_sent;
    std::size_t len = total - t.request_sent;
    if (separate_body) {
      // Each request of the batch is its text, then the shared body.
      const std::size_t off = t.request_sent % p->unit;
      const std::size_t text = request.size();
      data = off < text ? request.data() + off : p->body->data() + (off - text);
      len = off < text ? text - off : p->unit - off;
    }
    const IoResult r = t.io->send(*t.conn, t.conn->fd, data, len);
    if (r.status == IoResult::again) return watch(t, r.want);
    if (r.status != IoResult::done) {
      if (retry_on_fresh_connection(t)) return;
      return finish(t, r.code != Result::ok ? r.code : Result::send_error, r.err);
    }
    t.request_sent += r.n;
  }
  set_state(t, State::receiving);
}

// ---------------------------------------------------------------- receiving

// The batch is out: the responses are waited for. Its text is freed unless another batch
// will need it (idle connections must stay small); a retry builds it again.
void Multi::Impl::enter_receiving(Transfer& t) {
  const bool last =
      !t.plan || (t.plan->requests != 0 && t.answered + t.plan->batch >= t.plan->requests);
  if (last) t.request.reset();
  watch(t, kPollIn);
}

void Multi::Impl::receive(Transfer& t, int fd) {
  // One recv per call unless it filled the buffer: with level-triggered readiness a socket
  // with more to read is reported again, and a trickling socket costs one syscall, not two.
  // A TLS transport with records read ahead says so (`more`): no poll would announce them.
  for (int round = 0;; ++round) {
    const IoResult r = t.io->recv(*t.conn, fd, recv_buffer_.data(), recv_buffer_.size());
    if (r.status == IoResult::again) {
      // A transport that must write to read on (TLS) says so; plain TCP always wants in.
      if (r.want != kPollIn || t.turned) turn(t, r.want);
      return;
    }
    if (t.turned) turn(t, kPollIn);
    if (r.status != IoResult::done) return receive_ended(t, r);
    if (!t.first_byte_seen) {
      t.first_byte_seen = true;
      t.timings.first_byte_us = since_start_us(t);
    }
    t.received += r.n;
    const char* data = recv_buffer_.data();
    std::size_t left = r.n;
    while (left > 0) {
      if (!t.parser.started()) t.first_byte_ns = now_;
      std::size_t used = 0;
      const auto sink = t.has_sink ? detail::BodySink{&body_to_sink, &t} : detail::BodySink{};
      const auto st = t.parser.feed(data, left, &used, sink);
      if (st == detail::Http1Parser::Status::error) return finish(t, t.parser.error());
      if (st != detail::Http1Parser::Status::done) break;
      data += used;
      left -= used;
      // The next response of a pipelined batch may follow in the same bytes.
      if (!response_complete(t, left)) return;
    }
    if (!r.more && (r.n < recv_buffer_.size() || round >= 3)) return;
  }
}

// The connection's end (eof) or a failed recv. Out of receive()'s line, as the error
// paths are: a trickle's event then runs through fewer code lines.
void Multi::Impl::receive_ended(Transfer& t, const IoResult& r) {
  if (retry_on_fresh_connection(t)) return;
  if (r.status == IoResult::error)
    return finish(t, r.code != Result::ok ? r.code : Result::recv_error, r.err);
  if (t.parser.eof() == detail::Http1Parser::Status::done) {
    // A body delimited by the close; over TLS, a close without close_notify could be
    // anyone's cut.
    if (r.code == Result::tls_truncated) return finish(t, Result::tls_truncated);
    response_complete(t, 0);
    return;
  }
  finish(t, t.parser.error());
}

// A TLS read waits for the socket to be writable (want out), or, having waited, reads on.
void Multi::Impl::turn(Transfer& t, int want) {
  t.turned = want != kPollIn;
  watch(t, want);
}

// A response is complete; `left` bytes followed it in the buffer. Returns true if the next
// response of the batch is to be read from the same connection (the parser is ready for
// it), false if the transfer has ended or moved on (touch nothing of it then).
bool Multi::Impl::response_complete(Transfer& t, std::size_t left) {
  ++t.answered;
  ++stats_.responses;
  t.body_total += t.parser.body_bytes();
  t.header_total += t.parser.header_bytes();
  if (opt_.response_fn) {
    Response r;
    r.id = t.id;
    r.user = t.user;
    r.index = t.answered - 1;
    r.http_status = t.parser.status();
    r.body_bytes = t.parser.body_bytes();
    r.header_bytes = t.parser.header_bytes();
    r.start_ns = t.start_ns;
    r.sent_ns = t.sent_ns;
    r.first_byte_ns = t.first_byte_ns;
    r.done_ns = now_;
    r.new_connection = t.new_connection;
    r.connect_ns = t.new_connection ? t.connect_ns : 0;
    r.tls_ns = t.new_connection ? t.tls_ns : 0;
    r.tls_resumed = t.new_connection && t.tls_resumed;
    opt_.response_fn(r);
  }
  if (t.plan && ++t.plan->batch_done < t.plan->batch) {
    if (!t.parser.keep_alive()) {
      // The server closes after this one: the rest of the batch goes out again on a new
      // connection.
      next_batch(t);
      return false;
    }
    t.parser.reset(t.head);
    return true;
  }
  // Bytes beyond the responses asked for mean the server is out of step: the connection is
  // not used again.
  if (left > 0) t.out_of_step = true;
  if (!t.plan || (t.plan->requests != 0 && t.answered >= t.plan->requests)) {
    finish(t, Result::ok);
    return false;
  }
  next_batch(t);
  return false;
}

// ---------------------------------------------------------------- a loop's next batch

void Multi::Impl::next_batch(Transfer& t) {
  detail::RequestPlan& p = *t.plan;
  ++p.conn_batches;
  t.retried = false;
  t.new_connection = false;
  if (!t.parser.keep_alive() || t.out_of_step) {
    // The server closes this connection (or cannot be trusted on it): the next request goes
    // out on a new one, within the connect and total timeouts again.
    close_connection(t);
    t.out_of_step = false;
    t.reused = false;
    p.conn_batches = 0;
    if (t.connect_timeout_ms)
      t.deadline[kExpireConnect] = now_ + std::int64_t{t.connect_timeout_ms} * kNsPerMs;
    if (t.total_timeout_ms)
      t.deadline[kExpireTotal] = now_ + std::int64_t{t.total_timeout_ms} * kNsPerMs;
    requeue(t);
    return resolve_and_connect(t);
  }
  if (p.think_time_ms) return set_state(t, State::thinking);
  if (t.total_timeout_ms)
    set_expire(t, kExpireTotal, now_ + std::int64_t{t.total_timeout_ms} * kNsPerMs);
  set_state(t, State::sending);
  send_request(t);
}

// Between a response and the loop's next request: nothing is watched (a close by the
// server is found when the next request goes out, and retried on a new connection), and
// the total timeout waits for the request.
void Multi::Impl::enter_thinking(Transfer& t) {
  unwatch(t);
  t.deadline[kExpireTotal] = detail::kNever;
  set_expire(t, kExpireThink, now_ + std::int64_t{t.plan->think_time_ms} * kNsPerMs);
}

void Multi::Impl::end_thinking(Transfer& t) {
  if (t.total_timeout_ms)
    t.deadline[kExpireTotal] = now_ + std::int64_t{t.total_timeout_ms} * kNsPerMs;
  requeue(t);
  set_state(t, State::sending);
  send_request(t);
}

// A kept-alive connection can die between two requests (the server's keep-alive timeout):
// a cached one between the liveness check and the request, a loop's between its batches.
// Like curl, send the batch again, once, on a new connection if nothing came back.
bool Multi::Impl::retry_on_fresh_connection(Transfer& t) {
  const bool used_before = t.reused || (t.plan && t.plan->conn_batches > 0);
  if (!used_before || t.retried || t.parser.started() || (t.plan && t.plan->batch_done > 0)) {
    return false;
  }
  t.retried = true;
  t.reused = false;
  if (t.plan) t.plan->conn_batches = 0;
  close_connection(t);
  t.timings.connect_us = -1;
  resolve_and_connect(t);
  return true;
}

}  // namespace msb
