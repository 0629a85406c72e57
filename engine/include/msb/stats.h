// Counters the engine keeps about itself. Every field's meaning is exact: results files
// and the CI gate rely on them. Each record is followed by its table (see fields.h): a
// field without a row is in no results file, so add both together (a test round-trips
// every row through a results file and a merge, and guards each record's size).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "msb/fields.h"
#include "msb/histogram.h"

namespace msb {

struct SockIndexStats {
  std::string variant;
  std::uint64_t size = 0;
  std::uint64_t buckets = 0;
  std::vector<std::uint64_t> occupancy;
  std::uint64_t max_chain = 0;
  std::uint64_t lookups = 0;
  std::uint64_t probes = 0;
  std::uint64_t resizes = 0;

  double load_factor() const { return buckets ? double(size) / double(buckets) : 0; }
  // Sockets per non-empty bucket.
  double mean_chain() const {
    const std::uint64_t empty = occupancy.empty() ? buckets : occupancy[0];
    return buckets > empty ? double(size) / double(buckets - empty) : 0;
  }
  double probes_per_lookup() const { return lookups ? double(probes) / double(lookups) : 0; }
};

inline const FieldTable<SockIndexStats>& sockindex_fields() {
  using S = SockIndexStats;
  static const FieldTable<S> t = {
      {"variant", &S::variant, Rule::label, "", "\"chained\", \"resizable\" or \"direct\""},
      {"size", &S::size, Rule::total, "count", "sockets in the index"},
      {"buckets", &S::buckets, Rule::total, "count", "buckets (direct: slots) allocated"},
      {"occupancy", &S::occupancy, Rule::total, "count",
       "occupancy[k]: buckets holding exactly k sockets"},
      {"max_chain", &S::max_chain, Rule::max, "count", "longest bucket chain"},
      {"lookups", &S::lookups, Rule::measured, "count", "find() calls"},
      {"probes", &S::probes, Rule::measured, "count", "entries compared by those lookups"},
      {"resizes", &S::resizes, Rule::total, "count",
       "rehashes (resizable) or slot-array growths (direct)"},
  };
  return t;
}

struct TimerStats {
  std::string variant;
  std::uint64_t size = 0;
  std::uint64_t inserts = 0;
  std::uint64_t removes = 0;
  std::uint64_t pops = 0;
  std::uint64_t rotations = 0;
  std::uint64_t steps = 0;
  std::uint64_t ops() const { return inserts + removes + pops; }
};

inline const FieldTable<TimerStats>& timer_fields() {
  using T = TimerStats;
  static const FieldTable<T> t = {
      {"variant", &T::variant, Rule::label, "", "\"splay\", \"heap\" or \"wheel\""},
      {"size", &T::size, Rule::total, "count", "transfers with a pending expiry (one node each)"},
      {"inserts", &T::inserts, Rule::measured, "count", "insert() calls"},
      {"removes", &T::removes, Rule::measured, "count", "remove() calls"},
      {"pops", &T::pops, Rule::measured, "count", "expired nodes taken by pop_expired()"},
      {"rotations", &T::rotations, Rule::measured, "count", "splay rotations (splay only)"},
      {"steps", &T::steps, Rule::measured, "count",
       "nodes walked while splaying or sifting: the access depth"},
  };
  return t;
}

struct MultiStats {
  SockIndexStats sockindex;  // its own table: sockindex_fields()
  TimerStats timers;         // its own table: timer_fields()
  Histogram socket_action_socket_ns;
  Histogram socket_action_timer_ns;
  Histogram perform_ns;
  Histogram resolve_ns;
  Histogram tls_ns;
  std::uint64_t socket_action_calls = 0;
  std::uint64_t perform_calls = 0;
  std::uint64_t socket_callbacks = 0;
  std::uint64_t timer_callbacks = 0;
  std::uint64_t transfers_added = 0;
  std::uint64_t transfers_done = 0;
  std::uint64_t transfers_removed = 0;
  std::uint64_t responses = 0;
  ResultCounts by_result{};
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_reused = 0;
  std::uint64_t tls_handshakes = 0;
  std::uint64_t tls_resumed = 0;
  std::uint64_t running = 0;
  std::uint64_t max_socket_waiters = 0;
  std::uint64_t dns_lookups = 0;
  std::uint64_t dns_queued = 0;
  std::uint64_t dns_joined = 0;
  std::uint64_t dns_cache_hits = 0;
  std::uint64_t dns_failures = 0;
};

// Counts of calls cover the measured phase; counts of transfers, connections and lookups
// cover the whole run (lookups happen during ramp-up).
inline const FieldTable<MultiStats>& multi_fields() {
  using M = MultiStats;
  static const FieldTable<M> t = {
      {"socket_action_us/socket", &M::socket_action_socket_ns, Rule::histogram, "ns",
       "wall time of each socket_action() call for a socket (when instrumented)"},
      {"socket_action_us/timer", &M::socket_action_timer_ns, Rule::histogram, "ns",
       "wall time of each socket_action(kSocketTimeout) call"},
      {"perform_us", &M::perform_ns, Rule::histogram, "ns", "wall time of each perform() call"},
      {"resolve_us", &M::resolve_ns, Rule::histogram, "ns",
       "per transfer, start to DNS answer; the whole run (not reset with the others)"},
      {"tls_us", &M::tls_ns, Rule::histogram, "ns",
       "per new TLS connection, TCP established to handshake done; the whole run"},
      {"counts/socket_action_calls", &M::socket_action_calls, Rule::measured, "count",
       "socket_action() calls, instrumented or not"},
      {"counts/perform_calls", &M::perform_calls, Rule::measured, "count", "perform() calls"},
      {"callbacks/socket", &M::socket_callbacks, Rule::measured, "count",
       "socket callback invocations"},
      {"callbacks/timer", &M::timer_callbacks, Rule::measured, "count",
       "timer callback invocations"},
      {"counts/transfers_added", &M::transfers_added, Rule::total, "count", "add() calls accepted"},
      {"counts/transfers_done", &M::transfers_done, Rule::total, "count",
       "transfers ended with any result (the sum of by_result)"},
      {"counts/transfers_removed", &M::transfers_removed, Rule::total, "count",
       "transfers abandoned by remove() before they ended"},
      {"counts/responses", &M::responses, Rule::total, "count",
       "complete responses (every response of a request loop)"},
      {"counts/by_result", &M::by_result, Rule::total, "count", "transfers ended, by result code"},
      {"counts/connections_opened", &M::connections_opened, Rule::total, "count",
       "sockets connect()ed"},
      {"counts/connections_reused", &M::connections_reused, Rule::total, "count",
       "transfers served by a cached connection"},
      {"counts/tls_handshakes", &M::tls_handshakes, Rule::total, "count",
       "TLS handshakes completed (https connections opened)"},
      {"counts/tls_resumed", &M::tls_resumed, Rule::total, "count",
       "of those, handshakes that resumed an earlier session"},
      {"counts/running", &M::running, Rule::total, "count", "transfers not yet ended"},
      {"counts/max_socket_waiters", &M::max_socket_waiters, Rule::max, "count",
       "most transfers ever waiting on one socket"},
      {"counts/dns_lookups", &M::dns_lookups, Rule::total, "count", "queries sent through c-ares"},
      {"counts/dns_queued", &M::dns_queued, Rule::total, "count",
       "lookups that waited for a place among those in flight"},
      {"counts/dns_joined", &M::dns_joined, Rule::total, "count",
       "resolves that joined a lookup under way"},
      {"counts/dns_cache_hits", &M::dns_cache_hits, Rule::total, "count",
       "resolves answered from the DNS cache"},
      {"counts/dns_failures", &M::dns_failures, Rule::total, "count",
       "lookups that ended in an error"},
  };
  return t;
}

}  // namespace msb
