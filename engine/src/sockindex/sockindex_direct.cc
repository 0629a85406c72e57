// An array indexed by fd: one probe per lookup whatever the count. The kernel hands out the
// lowest free fd, so the array stays about as long as the number of open sockets.
//
// The entries live in the array itself, in chunks that never move: a lookup reads the
// (small, warm) chunk table and then the entry's own line, where an array of pointers to
// pooled entries read a slot's line first and the entry behind it second. On a trickle event
// every cold line is a wait after the kernel's recv has evicted the caches, and these waits
// are chained (the entry names the transfer): one link fewer is one wait fewer.
#include <algorithm>
#include <memory>

#include "memory/block_pool.h"  // MSB_POOL_POISON / MSB_POOL_UNPOISON
#include "sockindex/sockindex.h"

#if defined(__SANITIZE_ADDRESS__)
#define MSB_SLOT_FREE(e) __asan_address_is_poisoned(e)
#else
#define MSB_SLOT_FREE(e) ((e)->fd < 0)
#endif

namespace msb::detail {

namespace {

// Aligned: its own fields (the vtable pointer, the chunk table, the counters) are one line.
class alignas(64) DirectSockIndex final : public SockIndex {
 public:
  // 256 entries (16 KiB) per chunk: the table stays a few hundred bytes at 19,000 sockets,
  // and a process whose fds are sparse pays 16 KiB per 256 fd numbers in use, not per fd.
  static constexpr std::size_t kChunkBits = 8;
  static constexpr std::size_t kChunk = std::size_t{1} << kChunkBits;

  ~DirectSockIndex() override {
    for (auto& c : chunks_) {
      if (c) MSB_POOL_UNPOISON(c.get(), sizeof(SockEntry) * kChunk);
    }
  }

  SockEntry* find(int fd) override {
    ++lookups_;
    ++probes_;
    return live(fd);
  }
  void prefetch(int fd) const override {
    const auto i = static_cast<std::size_t>(fd);
    if (fd < 0 || (i >> kChunkBits) >= chunks_.size()) return;
    if (SockEntry* c = chunks_[i >> kChunkBits].get()) __builtin_prefetch(&c[i & (kChunk - 1)]);
  }
  SockEntry* peek(int fd) const override { return live(fd); }
  SockEntry& insert(int fd) override {
    const auto i = static_cast<std::size_t>(fd);
    const std::size_t k = i >> kChunkBits;
    if (k >= chunks_.size()) {
      chunks_.resize(std::max(k + 1, chunks_.size() * 2));
      ++resizes_;
    }
    if (!chunks_[k]) {
      chunks_[k] = std::make_unique<SockEntry[]>(kChunk);
      // A free slot is poisoned under AddressSanitizer, as a pooled entry is: a stale
      // pointer to an erased entry is still reported.
      MSB_POOL_POISON(chunks_[k].get(), sizeof(SockEntry) * kChunk);
    }
    SockEntry& e = chunks_[k][i & (kChunk - 1)];
    MSB_POOL_UNPOISON(&e, sizeof e);
    e = SockEntry(fd);
    ++size_;
    return e;
  }
  void erase(int fd) override {
    if (SockEntry* e = live(fd)) {
      *e = SockEntry();  // a free slot again; frees the waiters' list with it
      MSB_POOL_POISON(e, sizeof *e);
      --size_;
    }
  }
  std::size_t size() const override { return size_; }
  void for_each(const std::function<void(SockEntry&)>& fn) override {
    for (auto& c : chunks_) {
      if (!c) continue;
      for (std::size_t i = 0; i < kChunk; ++i) {
        if (!MSB_SLOT_FREE(&c[i])) fn(c[i]);
      }
    }
  }
  SockIndexStats stats() const override {
    SockIndexStats s;
    s.variant = "direct";
    s.size = size_;
    s.buckets = kChunk * static_cast<std::size_t>(std::count_if(chunks_.begin(), chunks_.end(),
                                                                [](const auto& c) { return !!c; }));
    s.lookups = lookups_;
    s.probes = probes_;
    s.resizes = resizes_;
    s.occupancy = {s.buckets - size_, size_};
    s.max_chain = size_ ? 1 : 0;
    return s;
  }

 private:
  // fd's entry if it is in use (not counted as a lookup: erase() asks too).
  SockEntry* live(int fd) const {
    const auto i = static_cast<std::size_t>(fd);
    if (fd < 0 || (i >> kChunkBits) >= chunks_.size()) return nullptr;
    SockEntry* c = chunks_[i >> kChunkBits].get();
    if (!c) return nullptr;
    SockEntry* e = &c[i & (kChunk - 1)];
    return MSB_SLOT_FREE(e) ? nullptr : e;
  }

  // Chunks are made on a fd's first insert and kept until the index dies.
  std::vector<std::unique_ptr<SockEntry[]>> chunks_;
  std::size_t size_ = 0;
  std::uint64_t lookups_ = 0;
  std::uint64_t probes_ = 0;
  std::uint64_t resizes_ = 0;
};

}  // namespace

std::unique_ptr<SockIndex> make_direct_sockindex() {
  return std::make_unique<DirectSockIndex>();
}

}  // namespace msb::detail
