// Power-of-two buckets, doubled whenever the sockets would outnumber them (load <= 1).
// fds are small and dense, so the low bits spread them evenly with no hash function.
#include "sockindex_hashed.h"

namespace msb::detail {

namespace {

class ResizableSockIndex final : public SockIndex {
 public:
  static constexpr std::size_t kInitialBuckets = 16;

  ResizableSockIndex() : chains_(kInitialBuckets), mask_(kInitialBuckets - 1) {}

  SockEntry* find(int fd) override {
    ++lookups_;
    return chains_.find(bucket(fd), fd, &probes_);
  }
  SockEntry& insert(int fd) override {
    if (size_ + 1 > chains_.bucket_count()) grow();
    auto* e = new SockEntry(fd);
    chains_.push(bucket(fd), e);
    ++size_;
    return *e;
  }
  void erase(int fd) override {
    if (SockEntry* e = chains_.unlink(bucket(fd), fd)) {
      delete e;
      --size_;
    }
  }
  std::size_t size() const override { return size_; }
  void for_each(const std::function<void(SockEntry&)>& fn) override { chains_.for_each(fn); }
  SockIndexStats stats() const override {
    SockIndexStats s;
    s.variant = "resizable";
    s.size = size_;
    s.lookups = lookups_;
    s.probes = probes_;
    s.resizes = resizes_;
    chains_.describe(s);
    return s;
  }

 private:
  std::size_t bucket(int fd) const { return static_cast<unsigned>(fd) & mask_; }
  void grow() {
    const std::size_t n = chains_.bucket_count() * 2;
    mask_ = n - 1;
    chains_.rehash(n, [this](int fd) { return bucket(fd); });
    ++resizes_;
  }

  BucketChains chains_;
  std::size_t mask_;
  std::size_t size_ = 0;
  std::uint64_t lookups_ = 0;
  std::uint64_t probes_ = 0;
  std::uint64_t resizes_ = 0;
};

}  // namespace

std::unique_ptr<SockIndex> make_resizable_sockindex() {
  return std::make_unique<ResizableSockIndex>();
}

}  // namespace msb::detail
