// Fixed bucket count, fd % buckets: the 2006 libcurl socket hash (7, later 97 buckets) and
// today's (911). Kept fixed on purpose: the point is to show chains growing with sockets.
#include "sockindex_hashed.h"

namespace msb::detail {

namespace {

class ChainedSockIndex final : public SockIndex {
 public:
  explicit ChainedSockIndex(unsigned buckets) : chains_(buckets ? buckets : 1) {}

  SockEntry* find(int fd) override {
    ++lookups_;
    return chains_.find(bucket(fd), fd, &probes_);
  }
  SockEntry& insert(int fd) override {
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
    s.variant = "chained";
    s.size = size_;
    s.lookups = lookups_;
    s.probes = probes_;
    chains_.describe(s);
    return s;
  }

 private:
  std::size_t bucket(int fd) const {
    return static_cast<unsigned>(fd) % chains_.bucket_count();
  }
  BucketChains chains_;
  std::size_t size_ = 0;
  std::uint64_t lookups_ = 0;
  std::uint64_t probes_ = 0;
};

}  // namespace

std::unique_ptr<SockIndex> make_chained_sockindex(unsigned buckets) {
  return std::make_unique<ChainedSockIndex>(buckets);
}

}  // namespace msb::detail
