#include "core/conn_cache.h"

namespace msb::detail {

ConnectionPtr ConnCache::take(const std::string& origin) {
  auto range = by_origin_.equal_range(origin);
  if (range.first == range.second) return nullptr;
  // Any one will do: a connection the server closed meanwhile is caught when taken.
  auto best = range.first;
  auto conn = std::move(*best->second);
  lru_.erase(best->second);
  by_origin_.erase(best);
  return conn;
}

ConnectionPtr ConnCache::put(ConnectionPtr&& conn) {
  if (capacity_ == 0) return std::move(conn);
  lru_.push_front(std::move(conn));  // strong guarantee: on bad_alloc conn is untouched
  try {
    by_origin_.emplace(lru_.front()->origin, lru_.begin());
  } catch (...) {
    conn = std::move(lru_.front());
    lru_.pop_front();
    throw;
  }
  if (lru_.size() <= capacity_) return nullptr;
  return take_oldest();
}

ConnectionPtr ConnCache::take_oldest() {
  if (lru_.empty()) return nullptr;
  auto oldest = std::prev(lru_.end());
  auto range = by_origin_.equal_range((*oldest)->origin);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == oldest) {
      by_origin_.erase(it);
      break;
    }
  }
  auto conn = std::move(*oldest);
  lru_.erase(oldest);
  return conn;
}

}  // namespace msb::detail
