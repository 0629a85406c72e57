// Multi: many HTTP/1.1 transfers driven from one thread by any event loop, after libcurl's
// multi_socket API.
//
// The contract, as in libcurl:
//  - The socket callback says which socket to watch for what (in, out, in+out, remove). It
//    is called only when what the engine wants of a socket changes, and with kPollRemove
//    before the engine closes a socket it reported (or stops caring about it). Returning -1
//    refuses a socket (as in libcurl): its transfers fail with watch_failed.
//  - The timer callback gives the single nearest timeout in ms; -1 deletes the timer. When
//    it fires, call socket_action(kSocketTimeout, 0).
//  - When a watched socket is ready, call socket_action(fd, events). The engine acts on the
//    transfers waiting on that socket only (found through the socket index), then on any
//    expired timers, and never scans all transfers.
//  - Finished transfers are read with info_read(). Unlike libcurl, a finished transfer is
//    released by the engine at once (its Done carries everything), so remove() is only for
//    abandoning a transfer still running.
//  - prefetch(fd) (msbench's own, optional): socket_action(fd) follows two calls later;
//    the engine loads that socket's state meanwhile.
//  - perform()/fdset()/pollset() are the pre-multi_socket way: perform() steps every
//    transfer, O(n) per call, kept on purpose as the baseline the design replaced.
// Callbacks run inside add/remove/socket_action/perform and must not call back into the
// same Multi except assign().
#pragma once

#include <poll.h>
#include <sys/select.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "msb/clock.h"
#include "msb/events.h"
#include "msb/stats.h"
#include "msb/sys.h"
#include "msb/transfer.h"
#include "msb/variants.h"

namespace msb {

// Returns 0, or -1 if the application cannot watch the socket (e.g. select() and an fd past
// FD_SETSIZE): the transfers waiting on it then end with Result::watch_failed.
using SocketCallback = std::function<int(int fd, int what, void* socketp)>;
using TimerCallback = std::function<void(long timeout_ms)>;
// Told of every response as it completes (see transfer.h); must not throw.
using ResponseCallback = std::function<void(const Response& response)>;

// How https:// transfers check their servers. One TLS context per Multi, made at the first
// https:// transfer (loading a CA store per transfer is what an engine must not do).
struct TlsOptions {
  // CA certificates to trust: a PEM file and/or a directory of hashed certificates
  // (c_rehash); both empty: the system's store.
  std::string ca_file;
  std::string ca_path;
  bool verify_peer = true;  // false: accept any certificate, any name (insecure = true)
  // A reconnect to an origin resumes its last session (TLS 1.3 tickets, 1.2 session ids),
  // skipping the full handshake.
  bool session_resumption = true;
  // TLS 1.3 suites in order of preference: AES-128-GCM first, as browsers and h2load offer
  // them. OpenSSL's own order puts AES-256-GCM-SHA384 first, whose SHA-384 key schedule cost
  // a resumed handshake 109k more instructions (callgrind: 2.40 M vs h2load's 2.25 M).
  // The references (libcurl, the TLS floor) offer the same list.
  std::string tls13_ciphersuites =
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
};

struct MultiOptions {
  SocketCallback socket_fn;
  TimerCallback timer_fn;
  ResponseCallback response_fn;  // optional
  SockIndexKind sockindex = SockIndexKind::direct;
  unsigned sockindex_buckets = 911;  // chained only
  TimerKind timers = TimerKind::splay;
  bool instrument = true;                   // time each socket_action()/perform() call
  std::size_t max_cached_connections = 64;  // idle keep-alive connections kept for reuse
  // Host names resolve with c-ares, asynchronously. Servers as "ip:port,ip:port"; empty
  // uses the system's resolv.conf.
  std::string dns_servers;
  std::uint32_t dns_timeout_ms = 5000;     // per lookup
  std::uint32_t dns_cache_ttl_ms = 60000;  // answers are reused for their TTL, at most this
  std::uint32_t dns_max_in_flight =
      128;  // lookups sent at once; more wait their turn (see resolver.h)
  // Local ports for connect(), first..last (Linux IP_LOCAL_PORT_RANGE, 6.3+); 0, 0: the
  // system's ephemeral range. A narrow range makes port exhaustion (EADDRNOTAVAIL) testable.
  std::uint16_t local_port_first = 0;
  std::uint16_t local_port_last = 0;
  TlsOptions tls;
  SysCalls* sys = nullptr;  // null: the real system calls
  Clock* clock = nullptr;   // null: the real monotonic clock
};

class Multi {
 public:
  explicit Multi(MultiOptions options);
  ~Multi();  // closes every socket (reporting REMOVE first) and drops all transfers
  Multi(const Multi&) = delete;
  Multi& operator=(const Multi&) = delete;

  // Queues a transfer; it starts at the next socket_action(kSocketTimeout) or perform()
  // (the timer callback asks for that with 0 ms). Refuses a URL it cannot handle.
  AddResult add(TransferSpec spec);
  // Abandons a running transfer without a Done. False if the id is not running.
  bool remove(TransferId id);
  // Ends a request loop gracefully: no new request goes out, and the Done (ok) follows the
  // responses to what was already sent (at once if nothing was). A loop still opening the
  // connection for its first request makes that one request, so its Done says how it went.
  // A single request just goes on. False if the id is not running.
  bool end_loop(TransferId id);

  // Acts on socket `fd` (or the timers, with kSocketTimeout); returns transfers running.
  int socket_action(int fd, int events);
  // A hint, never required: socket_action(fd, ...) will follow, after the calls for the
  // sockets hinted before it. An application holding several ready sockets from one wait
  // names each one two calls before its own; the engine starts loading that socket's entry
  // at once and its transfer during the next socket_action(), so both arrive while another
  // socket's recv() runs in the kernel instead of stalling fd's own call. Harmless for any
  // fd, known or not; the loop backends (epoll, io_uring, poll, select) do it.
  void prefetch(int fd) noexcept;
  // Steps every transfer (the O(n) legacy driver); returns transfers running.
  int perform();

  // Milliseconds until the nearest timeout, 0 if already due, -1 if none.
  long timeout();
  // The next finished transfer's record, oldest first; nullopt when none is waiting. (A
  // record that could not be queued for lack of memory comes after those that were.)
  std::optional<Done> info_read();
  // Attaches a pointer to a socket the engine reported; handed back by the socket
  // callback. False if the engine does not know the socket.
  bool assign(int fd, void* socketp);

  // Legacy waiting sets. fdset() adds every watched socket to the sets and raises *max_fd;
  // it returns false, leaving the sets untouched, if any socket is >= FD_SETSIZE (select()
  // cannot watch it: use pollset()). pollset() replaces `out` with one entry per socket.
  bool fdset(fd_set* read_set, fd_set* write_set, int* max_fd);
  void pollset(std::vector<pollfd>& out);

  int running() const;
  // Sockets the engine watches now (connecting or connected); cheap, unlike stats().
  std::size_t sockets() const;
  // A snapshot of every counter; walks the socket index for occupancy, so not per event.
  MultiStats stats() const;
  void reset_timing_stats();  // empties the socket_action/perform histograms (phase change)

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace msb
