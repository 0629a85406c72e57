// Buckets of intrusive chains, shared by the chained and resizable socket indexes: they
// differ only in how a fd picks its bucket and in whether the bucket array grows.
#pragma once

#include <vector>

#include "memory/block_pool.h"
#include "sockindex/sockindex.h"

namespace msb::detail {

// Each bucket keeps its head entry's fd beside the pointer: a hit on a chain's head (at
// load <= 1, nearly every hit) compares within the bucket array and touches no entry, so a
// lookup costs one cache line however many entries there are. (bench_sockindex, 100k live
// fds, random order: 4.2 ns with the fd only in the entry, where 1k fds took 1.8 ns.)
class BucketChains {
 public:
  explicit BucketChains(std::size_t buckets) : buckets_(buckets) {}

  SockEntry* find(std::size_t bucket, int fd, std::uint64_t* probes) const {
    const Bucket& b = buckets_[bucket];
    if (b.head == nullptr) return nullptr;
    ++*probes;
    if (b.head_fd == fd) return b.head;
    for (SockEntry* e = b.head->next; e; e = e->next) {
      ++*probes;
      if (e->fd == fd) return e;
    }
    return nullptr;
  }
  void prefetch(std::size_t bucket) const { __builtin_prefetch(&buckets_[bucket]); }
  void push(std::size_t bucket, SockEntry* e) {
    Bucket& b = buckets_[bucket];
    e->next = b.head;
    b.head = e;
    b.head_fd = e->fd;
  }
  SockEntry* unlink(std::size_t bucket, int fd);
  std::size_t bucket_count() const { return buckets_.size(); }
  // Moves every entry into `buckets` buckets chosen by `pick(fd)`.
  template <typename Pick>
  void rehash(std::size_t buckets, Pick pick) {
    std::vector<Bucket> old(buckets);
    old.swap(buckets_);
    for (const Bucket& b : old) {
      for (SockEntry* e = b.head; e;) {
        SockEntry* next = e->next;
        push(pick(e->fd), e);
        e = next;
      }
    }
  }
  void for_each(const std::function<void(SockEntry&)>& fn);
  // Fills the occupancy and chain fields of `s`.
  void describe(SockIndexStats& s) const;

 private:
  struct Bucket {
    SockEntry* head = nullptr;
    int head_fd = -1;  // head->fd, kept here so that a head hit never dereferences head
  };
  std::vector<Bucket> buckets_;
};

// The SockIndex operations over BucketChains, shared by both hashed variants. Derived
// supplies `std::size_t bucket(int fd) const`, `void before_insert()` (room to grow) and
// `const char* variant() const`; CRTP keeps the per-lookup call free of a second dispatch.
template <typename Derived>
class HashedSockIndex : public SockIndex {
 public:
  explicit HashedSockIndex(std::size_t buckets) : chains_(buckets) {}
  ~HashedSockIndex() override {
    chains_.for_each([this](SockEntry& e) { entries_.destroy(&e); });
  }

  SockEntry* find(int fd) override {
    ++lookups_;
    return chains_.find(self().bucket(fd), fd, &probes_);
  }
  void prefetch(int fd) const override { chains_.prefetch(self().bucket(fd)); }
  SockEntry* peek(int fd) const override {
    std::uint64_t probes = 0;
    return chains_.find(self().bucket(fd), fd, &probes);
  }
  SockEntry& insert(int fd) override {
    self().before_insert();
    SockEntry* e = entries_.make(fd);
    chains_.push(self().bucket(fd), e);
    ++size_;
    return *e;
  }
  void erase(int fd) override {
    if (SockEntry* e = chains_.unlink(self().bucket(fd), fd)) {
      --size_;
      entries_.destroy(e);
    }
  }
  std::size_t size() const override { return size_; }
  void for_each(const std::function<void(SockEntry&)>& fn) override { chains_.for_each(fn); }
  SockIndexStats stats() const override {
    SockIndexStats s;
    s.variant = self().variant();
    s.size = size_;
    s.lookups = lookups_;
    s.probes = probes_;
    s.resizes = resizes_;
    chains_.describe(s);
    return s;
  }

 protected:
  BucketChains chains_;
  std::uint64_t resizes_ = 0;
  std::size_t size_ = 0;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  const Derived& self() const { return static_cast<const Derived&>(*this); }
  std::uint64_t lookups_ = 0;
  std::uint64_t probes_ = 0;
  // Entries come from blocks and closed sockets' entries are reused: a connection's churn
  // costs no malloc/free pair. Measured with the gate workload (callgrind, inside
  // socket_action): 15.73 M instructions with new/delete, 15.54 M reusing up to 4,096 freed
  // entries; blocks also spare each entry's first use its malloc (1407.0 -> 1369.6 per
  // socket_action, where all 2,000 sockets open before any closes) and drop malloc's header.
  BlockPool<SockEntry> entries_;
};

}  // namespace msb::detail
