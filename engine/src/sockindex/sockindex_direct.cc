// An array indexed by fd: one probe per lookup whatever the count. The kernel hands out the
// lowest free fd, so the array stays about as long as the number of open sockets.
#include <algorithm>

#include "memory/block_pool.h"
#include "sockindex/sockindex.h"

namespace msb::detail {

namespace {

class DirectSockIndex final : public SockIndex {
 public:
  ~DirectSockIndex() override {
    for (SockEntry* e : slots_) entries_.destroy(e);
  }

  SockEntry* find(int fd) override {
    ++lookups_;
    ++probes_;
    const auto i = static_cast<std::size_t>(fd);
    return fd >= 0 && i < slots_.size() ? slots_[i] : nullptr;
  }
  SockEntry& insert(int fd) override {
    const auto i = static_cast<std::size_t>(fd);
    if (i >= slots_.size()) {
      slots_.resize(std::max<std::size_t>(64, std::max(i + 1, slots_.size() * 2)), nullptr);
      ++resizes_;
    }
    slots_[i] = entries_.make(fd);
    ++size_;
    return *slots_[i];
  }
  void erase(int fd) override {
    const auto i = static_cast<std::size_t>(fd);
    if (fd >= 0 && i < slots_.size() && slots_[i]) {
      entries_.destroy(slots_[i]);
      slots_[i] = nullptr;
      --size_;
    }
  }
  std::size_t size() const override { return size_; }
  void for_each(const std::function<void(SockEntry&)>& fn) override {
    for (SockEntry* e : slots_) {
      if (e) fn(*e);
    }
  }
  SockIndexStats stats() const override {
    SockIndexStats s;
    s.variant = "direct";
    s.size = size_;
    s.buckets = slots_.size();
    s.lookups = lookups_;
    s.probes = probes_;
    s.resizes = resizes_;
    s.occupancy = {s.buckets - size_, size_};
    s.max_chain = size_ ? 1 : 0;
    return s;
  }

 private:
  std::vector<SockEntry*> slots_;
  BlockPool<SockEntry> entries_;  // see sockindex_hashed.h
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
