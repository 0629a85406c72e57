// Power-of-two buckets, doubled whenever the sockets would outnumber them (load <= 1).
// fds are small and dense, so the low bits spread them evenly with no hash function.
#include "sockindex/sockindex_hashed.h"

namespace msb::detail {

namespace {

class ResizableSockIndex final : public HashedSockIndex<ResizableSockIndex> {
 public:
  static constexpr std::size_t kInitialBuckets = 16;

  ResizableSockIndex() : HashedSockIndex(kInitialBuckets), mask_(kInitialBuckets - 1) {}

  std::size_t bucket(int fd) const { return static_cast<unsigned>(fd) & mask_; }
  void before_insert() {
    if (size_ + 1 <= chains_.bucket_count()) return;
    const std::size_t n = chains_.bucket_count() * 2;
    mask_ = n - 1;
    chains_.rehash(n, [this](int fd) { return bucket(fd); });
    ++resizes_;
  }
  const char* variant() const { return "resizable"; }

 private:
  std::size_t mask_;
};

}  // namespace

std::unique_ptr<SockIndex> make_resizable_sockindex() {
  return std::make_unique<ResizableSockIndex>();
}

}  // namespace msb::detail
