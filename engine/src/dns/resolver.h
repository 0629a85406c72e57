// Asynchronous name resolution on c-ares, driven like everything else in the engine.
//
// c-ares' sockets are reported to the application through the engine's own socket
// callback (via Host::resolver_socket) and serviced through socket_action(); its timeout
// sits in the engine's timer queue (Host::resolver_timer). One c-ares socket carries every
// pending query, so many transfers wait on one socket: that is why the socket index maps a
// socket to a list. Concurrent lookups of one name are joined, and answers are cached for
// their DNS TTL (capped). Nothing here blocks.
//
// At most max_in_flight lookups are sent at once; the others queue and go out as answers
// come back. A storm of thousands of names sent in one burst overflows the DNS server's
// receive buffer (dnsmasq's UDP socket holds a few hundred queries), and every lost query
// then costs a c-ares retry timeout: 5,000 names at once took 2.5-5.1 s here with 128-159
// lookups timing out; see ResolverOptions::max_in_flight for the measured cap.
#pragma once

#include <ares.h>

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/transfer.h"
#include "msb/result.h"
#include "msb/transfer.h"

namespace msb::detail {

struct ResolverOptions {
  std::string servers;                 // "ip:port,ip:port"; empty: the system's resolv.conf
  std::uint32_t timeout_ms = 5000;     // per lookup, all tries included (from when it is sent)
  std::uint32_t cache_ttl_ms = 60000;  // cap on how long an answer is reused
  // Lookups sent and not yet answered; the rest queue. Chosen with scenarios/dns-storm.toml
  // (5,000 names against dnsmasq, 3 runs each): 64 -> ramp 0.45-0.47 s, slowest lookup
  // 311-342 ms; 128 -> 0.43-0.47 s, 214-231 ms; 192 and 256 -> 0.73-0.75 s (lost queries
  // wait for a 715 ms retry); unbounded -> 1.1-5.1 s, up to 167 lookups timed out.
  std::uint32_t max_in_flight = 128;
};

struct ResolverStats {
  std::uint64_t lookups = 0;     // queries sent to c-ares
  std::uint64_t queued = 0;      // lookups that waited for a place among those in flight
  std::uint64_t joined = 0;      // resolves that joined a lookup already under way
  std::uint64_t cache_hits = 0;  // resolves answered from the cache
  std::uint64_t failures = 0;    // lookups that ended in an error
};

class Resolver {
 public:
  // What the resolver needs from its Multi.
  class Host {
   public:
    virtual ~Host() = default;
    // c-ares wants fd watched for `want` (kPoll bits); 0: it is about to close fd.
    // Returns false if fd cannot be watched (out of memory): its answers would never be
    // read, so the resolver then ends its lookups out_of_memory.
    virtual bool resolver_socket(int fd, int want) = 0;
    // A lookup for transfer `id` ended. Addresses carry the transfer's port.
    virtual void resolved(TransferId id, Result result, std::vector<ResolvedAddress> addresses) = 0;
    // The resolver's next deadline (ns, monotonic), or kNever.
    virtual void resolver_timer(std::int64_t deadline) = 0;
    // Now, on the Multi's clock (ns, monotonic).
    virtual std::int64_t resolver_now() = 0;
  };

  // Throws std::runtime_error if c-ares cannot be set up (e.g. a bad server list).
  Resolver(Host& host, const ResolverOptions& options);
  ~Resolver();  // pending lookups end without calling back
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Resolves `name` for transfer `id`; the answer may come before this returns.
  void resolve(const std::string& name, std::uint16_t port, TransferId id);
  // socket_action on one of c-ares' sockets (events 0: unknown, try both ways).
  void process(int fd, int events);
  // The resolver's deadline passed.
  void on_timeout();
  const ResolverStats& stats() const { return stats_; }

 private:
  struct Lookup {
    Resolver* owner;
    std::string name;
    std::vector<std::pair<TransferId, std::uint16_t>> waiters;
  };
  struct CacheEntry {
    std::vector<ResolvedAddress> addresses;  // port 0
    std::int64_t expires;
  };

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable);
  static void on_answer(void* arg, int status, int timeouts, struct ares_addrinfo* result);
  void answer(Lookup* lookup, int status, struct ares_addrinfo* result);
  void send(Lookup* lookup);
  void send_queued();
  void fail_if_socket_lost();
  void rearm_timer();

  Host& host_;
  ResolverOptions options_;
  ares_channel channel_ = nullptr;
  bool shutting_down_ = false;
  bool socket_lost_ = false;            // a socket could not be watched during this c-ares call
  bool cancelling_for_memory_ = false;  // ARES_ECANCELLED means out_of_memory
  std::unordered_map<std::string, Lookup*> pending_;  // in flight or queued, by name
  std::deque<Lookup*> queued_;                        // not sent yet, oldest first
  std::size_t in_flight_ = 0;
  std::unordered_map<std::string, CacheEntry> cache_;
  ResolverStats stats_;
};

}  // namespace msb::detail
