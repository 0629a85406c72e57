// The socket index: fd -> the engine's record of that socket.
//
// socket_action(fd) starts here, so this lookup is the engine's per-event cost that grows
// (or not) with the number of sockets. Three variants, chosen at Multi construction, are
// what the sockindex scenario and benchmarks compare:
//  - chained: a fixed number of buckets, fd % buckets (2006 curl used 7 or 97; curl today
//    911). Chains grow linearly once sockets outnumber buckets.
//  - resizable: power-of-two buckets doubled whenever sockets would outnumber them, so
//    the mean chain stays <= 1. fds are small dense integers, so fd & mask spreads them.
//  - direct: an array of entries indexed by fd. One probe always, and the entry is the
//    only cold line of the lookup; memory follows the highest fd (in 16 KiB chunks). The
//    default: a trickle event reads 2.93 cold lines against the resizable table's 4.31
//    (tools/lines-per-event.sh), one link fewer in the chain entry -> transfer.
// More than one transfer may wait on one socket (c-ares' sockets serve many lookups), so an
// entry holds a list of waiters, the first inline since nearly every socket has one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "msb/events.h"
#include "msb/stats.h"
#include "msb/variants.h"

namespace msb::detail {

struct Transfer;

struct SockWaiter {
  Transfer* transfer = nullptr;
  std::uint8_t want = kPollNone;  // what this transfer wants of the socket
};

// One cache line, aligned to one: an event reads its entry (the waiters, whether c-ares owns
// the socket) as a single cold line. 72 bytes at any offset often took two
// (tools/lines-per-event.sh).
struct alignas(64) SockEntry {
  SockEntry() = default;  // a free slot (the direct index's arrays)
  explicit SockEntry(int f) : fd(f) {}
  int fd = -1;
  std::uint8_t reported = kPollNone;  // what the socket callback was last told
  std::uint8_t resolver_want = 0;  // c-ares' own socket: what c-ares wants (its waiters: lookups)
  void* socketp = nullptr;         // assign()ed by the application
  SockEntry* next = nullptr;       // chain link for the hashed variants
  SockWaiter first;                // the common case: one transfer per socket
  std::vector<SockWaiter> more;

  // The union of what the waiters want.
  int wanted() const;
  std::size_t waiter_count() const { return (first.transfer ? 1 : 0) + more.size(); }
  SockWaiter* find_waiter(const Transfer* t);
  SockWaiter& add_waiter(Transfer* t);
  void drop_waiter(const Transfer* t);
};
static_assert(sizeof(SockEntry) == 64, "one cache line");

class SockIndex {
 public:
  virtual ~SockIndex() = default;
  // The entry for fd, or null. Counts one lookup and the entries compared.
  virtual SockEntry* find(int fd) = 0;
  // Starts loading the line find(fd) reads first, without waiting for it or reading it.
  virtual void prefetch(int fd) const = 0;
  // find() without counting: the second step of a prefetch, not a lookup of its own.
  virtual SockEntry* peek(int fd) const = 0;
  // Adds an entry for fd, which must not be present.
  virtual SockEntry& insert(int fd) = 0;
  // Removes and frees the entry for fd, if present.
  virtual void erase(int fd) = 0;
  virtual std::size_t size() const = 0;
  // Visits every entry; the callback must not insert or erase.
  virtual void for_each(const std::function<void(SockEntry&)>& fn) = 0;
  // Occupancy and chain statistics, computed by walking the buckets (not for the hot path).
  virtual SockIndexStats stats() const = 0;
};

std::unique_ptr<SockIndex> make_sockindex(SockIndexKind kind, unsigned buckets);

}  // namespace msb::detail
