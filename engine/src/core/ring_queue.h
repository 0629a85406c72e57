// A first-in first-out queue that keeps its storage: once it has held its largest backlog,
// queuing allocates nothing. It holds finished transfers' records until info_read(), where a
// std::deque allocated a 512-byte block every few records and freed it again. Measured with
// the gate workload (callgrind, inside socket_action, with the socket index's spare entries):
// 15.54 M instructions with the deque, 15.29 M with this.
//
// Slots hold objects only between push and pop: growing neither constructs the new slots
// nor copies the records one field at a time (a Done is trivially copyable: two memmoves).
// With a std::vector of slots, a growth value-initialized every new slot and moved each
// record field by field: 12 instructions per socket_action more in the gate workload, where
// info_read() comes only at the end and the queue grows to 2,048.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace msb::detail {

template <class T>
class RingQueue {
  static_assert(std::is_nothrow_move_constructible_v<T>, "growth must not fail half way");
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "plain operator new storage");

 public:
  RingQueue() = default;
  RingQueue(const RingQueue&) = delete;
  RingQueue& operator=(const RingQueue&) = delete;
  ~RingQueue() {
    while (!empty()) pop_front();
    ::operator delete(slots_);
  }

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  T& front() { return slots_[head_]; }
  // May throw std::bad_alloc when it must grow; then the queue is as it was.
  void push_back(T v) {
    if (size_ == capacity_) grow();
    ::new (static_cast<void*>(&slots_[(head_ + size_) & (capacity_ - 1)])) T(std::move(v));
    ++size_;
  }
  void pop_front() {
    std::destroy_at(&slots_[head_]);
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
  }

 private:
  void grow() {
    const std::size_t capacity = std::max<std::size_t>(16, capacity_ * 2);  // a power of two
    T* bigger = static_cast<T*>(::operator new(capacity * sizeof(T)));
    // The ring's two runs, oldest first, to the front of the new storage.
    const std::size_t first = std::min(size_, capacity_ - head_);
    std::uninitialized_move(slots_ + head_, slots_ + head_ + first, bigger);
    std::uninitialized_move(slots_, slots_ + (size_ - first), bigger + first);
    std::destroy(slots_ + head_, slots_ + head_ + first);
    std::destroy(slots_, slots_ + (size_ - first));
    ::operator delete(slots_);
    slots_ = bigger;
    capacity_ = capacity;
    head_ = 0;
  }

  T* slots_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0, size_ = 0;
};

}  // namespace msb::detail
