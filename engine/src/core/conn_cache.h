// Idle keep-alive connections, by origin, bounded in number.
//
// A finished transfer leaves its connection here when the server allows reuse; the next
// transfer to the same origin takes it instead of connecting. When full, the connection idle
// the longest is evicted (the caller closes it). Idle connections are not watched, so one
// the server closed meanwhile is found out when taken (see Multi's liveness check).
#pragma once

#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/transfer.h"

namespace msb::detail {

class ConnCache {
 public:
  explicit ConnCache(std::size_t capacity) : capacity_(capacity) {}

  // An idle connection to `origin`, or null.
  ConnectionPtr take(const std::string& origin);
  // Caches `conn`; returns a connection evicted to make room (or `conn` itself when the
  // capacity is 0), which the caller must close.
  // If an allocation fails, throws with `conn` still the caller's.
  ConnectionPtr put(ConnectionPtr&& conn);
  // The connection idle the longest, or null: emptying the cache one by one allocates
  // nothing (the Multi's destructor does it).
  ConnectionPtr take_oldest();
  std::size_t size() const { return lru_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  using Lru = std::list<ConnectionPtr>;  // front: most recently cached
  std::size_t capacity_;
  Lru lru_;
  std::unordered_multimap<std::string, Lru::iterator> by_origin_;
};

}  // namespace msb::detail
