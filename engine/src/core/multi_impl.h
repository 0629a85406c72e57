// Multi's internals: one class, its parts in one file per concept.
//
//   multi.cc             the public API, construction, adding and removing transfers, stats
//   dispatch.cc          socket_action()/perform(), the socket callback (watch, unwatch) and
//                        closing or caching connections
//   deadlines.cc         per-transfer deadlines in the timer queue, the timer callback
//   transfer_machine.cc  the state machine: set_state() and what entering each state does,
//                        and the way to an open connection (resolve, connect)
//   exchange.cc          the exchange on it: send, receive, a loop's next request
//   completion.cc        ending a transfer (finish) and handing its record out (info_read)
//   dns/multi_dns.cc     names: c-ares' sockets and deadline in the same index and queue
//
// Following one transfer from add() to info_read() reads multi.cc, deadlines.cc (it starts
// on the first timeout), transfer_machine.cc, exchange.cc, completion.cc: in that order.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "core/clock.h"
#include "core/conn_cache.h"
#include "core/ring_queue.h"
#include "core/transfer.h"
#include "dns/resolver.h"
#include "http1/request.h"
#include "msb/multi.h"
#include "sockindex/sockindex.h"
#include "timers/timer_queue.h"
#include "transport/tcp_transport.h"
#include "transport/tls_transport.h"

namespace msb {

class Multi::Impl : private detail::Resolver::Host {
 public:
  explicit Impl(MultiOptions options);
  ~Impl();

  AddResult add(TransferSpec spec);
  bool remove(TransferId id);
  bool end_loop(TransferId id);
  int socket_action(int fd, int events);
  void prefetch(int fd) noexcept;
  // Several transfers share the socket (rare: out of socket_action's line).
  [[gnu::cold]] void step_sharers(detail::SockEntry& e, int fd, int events);
  int perform();
  long timeout();
  std::optional<Done> info_read();
  bool assign(int fd, void* socketp);
  bool fdset(fd_set* read_set, fd_set* write_set, int* max_fd);
  void pollset(std::vector<pollfd>& out);
  int running() const { return static_cast<int>(live_); }
  std::size_t sockets() const { return index_->size(); }
  MultiStats stats() const;
  void reset_timing_stats();

 private:
  using Transfer = detail::Transfer;
  using Connection = detail::Connection;
  using State = detail::TransferState;

  // --- transfers (multi.cc)
  Transfer* lookup(TransferId id);
  AddResult add_or_throw(TransferSpec spec);

  // --- time: one clock read per entry into the engine, shared by everything inside
  std::int64_t tick() { return now_ = read_clock(); }
  // The real clock without a virtual call (an injected one through it): read twice per
  // event, the call and its two functions' code lines were a tenth of an event's.
  std::int64_t read_clock() { return real_clock_ ? detail::monotonic_ns() : clock_.now_ns(); }
  std::int64_t since_start_us(const Transfer& t) const { return (now_ - t.start_ns) / 1000; }

  // Loads the transfers of the sockets prefetch() named before the previous call: their
  // entries have had a whole socket_action() to arrive.
  void load_ahead();

  // --- deadlines (deadlines.cc)
  void set_expire(Transfer& t, detail::ExpireId id, std::int64_t when);
  void clear_expire(Transfer& t, detail::ExpireId id);
  void requeue(Transfer& t);
  // Starts added transfers and acts on deadlines due. Inline: every socket_action asks, and
  // there is rarely anything to do (the checks cost 40 instructions per call as calls).
  void run_expired() {
    if (starting_head_) start_queued();
    if (timers_floor_ <= now_) run_timers();
  }
  void run_timers();
  void queue_timer(detail::TimerNode* node, std::int64_t key);
  void unqueue_timer(detail::TimerNode* node) {
    timers_->remove(node);
    deadlines_changed_ = true;
  }
  void on_expired(Transfer& t);
  void update_timer();
  std::int64_t nearest_deadline() const;
  void queue_start(Transfer& t);
  void unqueue_start(Transfer& t);
  void start_queued();

  // --- the state machine (transfer_machine.cc)
  void set_state(Transfer& t, State s);
  // What entering a state does, one function per state (curl's mstate() init table).
  void enter_resolving(Transfer& t);
  void enter_connecting(Transfer& t);
  void enter_sending(Transfer& t);
  void enter_receiving(Transfer& t);
  void enter_thinking(Transfer& t);
  void enter_done(Transfer& t);
  // Advances `t` after `events` on its socket (0: unknown, probe without waiting).
  // `fd` is the socket the events came on, or -1 when stepping without one (perform()).
  void step(Transfer& t, int fd, int events);
  // step(), ending the transfer out_of_memory if an allocation in it fails.
  void step_guarded(Transfer& t, int fd, int events);
  void start(Transfer& t);
  void resolve_and_connect(Transfer& t);
  void connect_next(Transfer& t);
  bool try_connect(Transfer& t, const detail::ResolvedAddress& a, int* last_error);
  void check_connect(Transfer& t, int events);
  void on_connected(Transfer& t);
  void handshake(Transfer& t);         // TLS, step by step
  void connection_ready(Transfer& t);  // for HTTP: the request goes out
  void send_request(Transfer& t);
  // `fd` is t.conn->fd, passed down from socket_action() so that a trickle's event does
  // not have to fetch the (cold) Connection before it can call recv().
  void receive(Transfer& t, int fd);
  [[gnu::cold]] void receive_ended(Transfer& t, const detail::IoResult& r);
  void turn(Transfer& t, int want);
  bool retry_on_fresh_connection(Transfer& t);

  // --- the exchange on an open connection (exchange.cc; enter_sending/receiving/thinking,
  // send_request and receive above are there too)
  bool response_complete(Transfer& t, std::size_t left);
  void next_batch(Transfer& t);
  void end_thinking(Transfer& t);

  // --- completion (completion.cc)
  void finish(Transfer& t, Result result, int os_error = 0);
  void release_slot(Transfer& t);
  void free_slot(Transfer& t);

  // --- sockets (dispatch.cc)
  void watch(Transfer& t, int want);
  void unwatch(Transfer& t);
  void sync_socket(detail::SockEntry& e);
  void close_connection(Transfer& t);
  void cache_or_close(Transfer& t);
  void close_fd(int fd) { sys_.close(fd); }
  void fail_refused();

  // --- names (dns/multi_dns.cc): c-ares' sockets and deadline live in the same index and
  // timer queue as the transfers'.
  bool ensure_resolver();
  void start_resolving(Transfer& t);
  void stop_resolving(Transfer& t);
  void continue_resolved(Transfer& t, Result result,
                         std::vector<detail::ResolvedAddress> addresses);
  bool resolver_socket(int fd, int want) override;
  void resolved(TransferId id, Result result,
                std::vector<detail::ResolvedAddress> addresses) override;
  void resolver_timer(std::int64_t deadline) override;
  std::int64_t resolver_now() override { return now_; }

  MultiOptions opt_;
  SysCalls& sys_;

  // Every event reads these two lines (socket_action on an established connection): kept
  // together, so that an event whose Impl the kernel's recv has evicted waits for two lines,
  // not seven (tools/lines-per-event.sh with cold caches).
  alignas(64) std::int64_t now_ = 0;  // the clock as read on entry into the engine
  std::unique_ptr<detail::SockIndex> index_;
  // A lower bound of the timer queue's nearest key, so that run_expired() need not ask the
  // queue while it is in the future: lowered by every insert (queue_timer()), made exact
  // when a pass finds nothing more due (removals only raise the true nearest).
  std::int64_t timers_floor_ = detail::kNever;
  // Transfers added and not started yet, first in first out (intrusive, through wait_*):
  // they start in the next socket_action(kSocketTimeout) or perform(), as if their deadline
  // were the moment they were added, without a node each in the timer queue.
  Transfer* starting_head_ = nullptr;
  std::size_t live_ = 0;
  Clock& clock_;
  const bool real_clock_;  // clock_ is Clock::real()
  // Set by whatever may move the nearest deadline or drop the application's timer (timer
  // queue inserts and removals, a pass over it, the start list, a fired timer); update_timer()
  // asks the queue only then: most events change no deadline.
  bool deadlines_changed_ = true;
  const bool instrument_;            // opt_.instrument, on this line
  std::uint8_t ahead_count_ = 0;     // sockets in ahead_
  std::vector<char> recv_buffer_;    // shared by all transfers
  std::vector<TransferId> refused_;  // transfers whose socket the application refused
  detail::TcpTransport tcp_;

  std::unique_ptr<detail::TimerQueue> timers_;
  // Before the cache and the slots, which hold their objects: destroyed after them.
  detail::BlockPool<detail::Connection> connections_;
  detail::BlockPool<Transfer> transfers_;
  detail::ConnCache cache_;
  detail::LastHostParse last_host_;            // literal or not, the last URL host seen
  detail::SharedRequestText shared_requests_;  // the last plain request's text
  std::unique_ptr<detail::TlsTransport> tls_;  // made at the first https:// transfer

  std::vector<detail::PoolPtr<Transfer>> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t serial_ = 0;
  detail::RingQueue<Done> done_;
  // Finished transfers whose Done could not be queued (out of memory): each keeps its slot
  // and its result until info_read() hands it out. Intrusive, so parking never allocates.
  Transfer* undelivered_head_ = nullptr;
  Transfer* undelivered_tail_ = nullptr;

  bool timer_armed_ = false;  // the application holds a timer we asked for
  std::int64_t timer_deadline_ = 0;
  std::vector<TransferId> waiting_;  // scratch for step_sharers, reused (no allocation)
  // Sockets prefetch() named whose transfers are not loaded yet, oldest first, each with the
  // socket_action() count when it was named; full, the oldest is dropped (a hint is a hint).
  struct Ahead {
    int fd = -1;
    std::uint64_t call = 0;
  };
  std::array<Ahead, 4> ahead_{};
  std::uint8_t ahead_first_ = 0;

  std::unique_ptr<detail::Resolver> resolver_;  // made at the first host name
  detail::TimerNode resolver_timer_;            // owner null: the resolver's deadline
  Transfer* resolving_head_ = nullptr;          // transfers waiting for a name (intrusive)
  Transfer* starting_tail_ = nullptr;
  std::int64_t starting_since_ = 0;  // when the list last became non-empty
  std::size_t resolving_count_ = 0;
  std::vector<int> resolver_fds_;  // c-ares' sockets now

  MultiStats stats_;
};

}  // namespace msb
