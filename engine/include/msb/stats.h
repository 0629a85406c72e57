// Counters the engine keeps about itself. Every field's meaning is exact: results files
// and the CI gate rely on them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "msb/histogram.h"

namespace msb {

struct SockIndexStats {
  std::string variant;             // "chained", "resizable" or "direct"
  std::uint64_t size = 0;          // sockets in the index now
  std::uint64_t buckets = 0;       // buckets (direct: slots) allocated now
  double load_factor = 0;          // size / buckets
  std::vector<std::uint64_t> occupancy;  // occupancy[k] = buckets holding exactly k sockets
  std::uint64_t max_chain = 0;     // longest bucket chain now
  double mean_chain = 0;           // size / non-empty buckets
  std::uint64_t lookups = 0;       // find() calls since construction
  std::uint64_t probes = 0;        // entries compared by those lookups
  std::uint64_t resizes = 0;       // rehashes (resizable) or slot-array growths (direct)
  double probes_per_lookup() const { return lookups ? double(probes) / lookups : 0; }
};

struct TimerStats {
  std::string variant;         // "splay", ...
  std::uint64_t size = 0;      // transfers with a pending expiry now (one node each)
  std::uint64_t inserts = 0;   // insert() calls
  std::uint64_t removes = 0;   // remove() calls
  std::uint64_t pops = 0;      // expired nodes taken by pop_expired()
  std::uint64_t rotations = 0; // splay rotations (splay only)
  std::uint64_t steps = 0;     // nodes walked while splaying or sifting: the access depth
  std::uint64_t ops() const { return inserts + removes + pops; }
};

struct MultiStats {
  SockIndexStats sockindex;
  TimerStats timers;
  // Wall time of each socket_action() call in nanoseconds, when instrumentation is on.
  Histogram socket_action_socket_ns;  // calls for a socket
  Histogram socket_action_timer_ns;   // calls with kSocketTimeout
  Histogram perform_ns;               // perform() calls
  Histogram resolve_ns;  // per transfer, start to DNS answer; whole run (not reset with the others)
  std::uint64_t socket_action_calls = 0;  // all calls, instrumented or not
  std::uint64_t perform_calls = 0;
  std::uint64_t socket_callbacks = 0;     // socket callback invocations
  std::uint64_t timer_callbacks = 0;      // timer callback invocations
  std::uint64_t transfers_added = 0;
  std::uint64_t transfers_done = 0;       // ended with any result (sum of by_result)
  std::uint64_t transfers_removed = 0;    // removed by remove() before they ended
  std::vector<std::uint64_t> by_result;   // transfers ended, indexed by Result
  std::uint64_t connections_opened = 0;   // sockets connect()ed
  std::uint64_t connections_reused = 0;   // transfers served by a cached connection
  std::uint64_t running = 0;              // transfers not yet ended
  std::uint64_t max_socket_waiters = 0;   // most transfers ever waiting on one socket
  std::uint64_t dns_lookups = 0;          // queries sent through c-ares
  std::uint64_t dns_queued = 0;           // lookups that waited for a place in flight
  std::uint64_t dns_joined = 0;           // resolves that joined a lookup under way
  std::uint64_t dns_cache_hits = 0;       // resolves answered from the DNS cache
  std::uint64_t dns_failures = 0;         // lookups that ended in an error
};

}  // namespace msb
