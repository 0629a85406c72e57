#include "sockindex/sockindex_hashed.h"

#include <algorithm>

namespace msb::detail {

SockEntry* BucketChains::unlink(std::size_t bucket, int fd) {
  Bucket& b = buckets_[bucket];
  for (SockEntry** link = &b.head; *link; link = &(*link)->next) {
    if ((*link)->fd == fd) {
      SockEntry* e = *link;
      *link = e->next;
      e->next = nullptr;
      if (link == &b.head) b.head_fd = b.head ? b.head->fd : -1;
      return e;
    }
  }
  return nullptr;
}

void BucketChains::for_each(const std::function<void(SockEntry&)>& fn) {
  for (const Bucket& b : buckets_) {
    for (SockEntry* e = b.head; e;) {
      SockEntry* next = e->next;  // read first: fn may not erase, but stays safe if it did
      fn(*e);
      e = next;
    }
  }
}

void BucketChains::describe(SockIndexStats& s) const {
  s.buckets = buckets_.size();
  s.occupancy.assign(1, 0);
  std::uint64_t nonempty = 0;
  for (const Bucket& b : buckets_) {
    std::uint64_t k = 0;
    for (SockEntry* e = b.head; e; e = e->next) ++k;
    if (k >= s.occupancy.size()) s.occupancy.resize(k + 1, 0);
    ++s.occupancy[k];
    if (k) ++nonempty;
    s.max_chain = std::max(s.max_chain, k);
  }
}

}  // namespace msb::detail
