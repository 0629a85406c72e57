// Objects of one type carved from blocks of kPerBlock, a destroyed one's storage kept on a
// free list for the next: making an object costs a pointer pop (or a bump) instead of a
// malloc, destroying one a push instead of a free, and a block holds its objects without
// malloc's per-chunk header. The engine's per-socket objects (socket index entries,
// connections, transfers) come from these; the pool belongs to the Multi, so nothing here is
// shared between threads.
//
// The memory is kept at the peak count until the pool dies (a mass close does not give it
// back to the heap: the next ramp reuses it). Under AddressSanitizer a free slot is poisoned,
// so a use after destroy() is still reported.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define MSB_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define MSB_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define MSB_POOL_POISON(p, n) ((void)(p), (void)(n))
#define MSB_POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace msb::detail {

template <class T, std::size_t kPerBlock>
class BlockPool;

// An owning pointer to a pooled object that records its pool in its `pool` member: 8 bytes
// like std::unique_ptr, where a deleter holding the pool would double it in every owner.
template <class T>
struct ReturnToPool {
  void operator()(T* t) const noexcept { t->pool->destroy(t); }
};
template <class T>
using PoolPtr = std::unique_ptr<T, ReturnToPool<T>>;

// 64 per block: one allocation per 64 objects (a block of transfers is 40 KiB), few next to
// the thousands an engine holds, and little memory held past the last object in use. A
// choice, not a measured optimum.
template <class T, std::size_t kPerBlock = 64>
class BlockPool {
 public:
  BlockPool() = default;
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  // Every object must have been destroyed: the blocks are freed, no destructor runs.
  ~BlockPool() {
    for (Slot* b : blocks_) {
      MSB_POOL_UNPOISON(b, sizeof(Slot) * kPerBlock);
      ::operator delete (b, std::align_val_t{alignof(Slot)});
    }
  }

  // May throw std::bad_alloc (a new block), or what T's constructor throws; then the pool
  // is as it was.
  template <class... Args>
  T* make(Args&&... args) {
    Slot* s = take();
    try {
      return ::new (static_cast<void*>(s)) T(std::forward<Args>(args)...);
    } catch (...) {
      give(s);
      throw;
    }
  }
  // The same, owned: T has a `BlockPool<T>* pool` member, set here.
  template <class... Args>
  PoolPtr<T> make_owned(Args&&... args) {
    T* t = make(std::forward<Args>(args)...);
    t->pool = this;
    return PoolPtr<T>(t);
  }
  void destroy(T* t) noexcept {
    if (!t) return;
    t->~T();
    give(reinterpret_cast<Slot*>(t));
  }

  std::size_t blocks() const { return blocks_.size(); }

 private:
  union Slot {
    Slot* next;  // while free
    alignas(T) unsigned char object[sizeof(T)];
  };

  Slot* take() {
    Slot* s;
    if (free_) {
      s = free_;
      MSB_POOL_UNPOISON(s, sizeof(Slot));
      free_ = s->next;
    } else {
      if (used_ == kPerBlock) grow();
      s = &current_[used_++];
      MSB_POOL_UNPOISON(s, sizeof(Slot));
    }
    return s;
  }
  void give(Slot* s) noexcept {
    s->next = free_;
    free_ = s;
    MSB_POOL_POISON(s, sizeof(Slot));
  }
  void grow() {
    // Room first, so that a failure leaves nothing to undo.
    if (blocks_.size() == blocks_.capacity()) blocks_.reserve(2 * blocks_.size() + 8);
    // Aligned as T asks (a cache line, for some): every object then starts where T's layout
    // expects it to.
    current_ = static_cast<Slot*>(
        ::operator new (sizeof(Slot) * kPerBlock, std::align_val_t{alignof(Slot)}));
    blocks_.push_back(current_);
    used_ = 0;
    MSB_POOL_POISON(current_, sizeof(Slot) * kPerBlock);
  }

  std::vector<Slot*> blocks_;
  Slot* current_ = nullptr;
  std::size_t used_ = kPerBlock;  // of current_: none left, so the first take() grows
  Slot* free_ = nullptr;
};

}  // namespace msb::detail
