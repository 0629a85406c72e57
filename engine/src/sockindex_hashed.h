// Buckets of intrusive chains, shared by the chained and resizable socket indexes: they
// differ only in how a fd picks its bucket and in whether the bucket array grows.
#pragma once

#include <vector>

#include "sockindex.h"

namespace msb::detail {

class BucketChains {
 public:
  explicit BucketChains(std::size_t buckets) : heads_(buckets, nullptr) {}
  ~BucketChains();

  SockEntry* find(std::size_t bucket, int fd, std::uint64_t* probes) const {
    for (SockEntry* e = heads_[bucket]; e; e = e->next) {
      ++*probes;
      if (e->fd == fd) return e;
    }
    return nullptr;
  }
  void push(std::size_t bucket, SockEntry* e) {
    e->next = heads_[bucket];
    heads_[bucket] = e;
  }
  SockEntry* unlink(std::size_t bucket, int fd);
  std::size_t bucket_count() const { return heads_.size(); }
  // Moves every entry into `buckets` buckets chosen by `pick(fd)`.
  template <typename Pick>
  void rehash(std::size_t buckets, Pick pick) {
    std::vector<SockEntry*> old(buckets, nullptr);
    old.swap(heads_);
    for (SockEntry* head : old) {
      while (head) {
        SockEntry* next = head->next;
        push(pick(head->fd), head);
        head = next;
      }
    }
  }
  void for_each(const std::function<void(SockEntry&)>& fn);
  // Fills the occupancy and chain fields of `s`.
  void describe(SockIndexStats& s) const;

 private:
  std::vector<SockEntry*> heads_;
};

}  // namespace msb::detail
