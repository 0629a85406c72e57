// Fixed bucket count, fd % buckets: the 2006 libcurl socket hash (7, later 97 buckets) and
// today's (911). Kept fixed on purpose: the point is to show chains growing with sockets.
#include "sockindex/sockindex_hashed.h"

namespace msb::detail {

namespace {

class ChainedSockIndex final : public HashedSockIndex<ChainedSockIndex> {
 public:
  explicit ChainedSockIndex(unsigned buckets) : HashedSockIndex(buckets ? buckets : 1) {}

  std::size_t bucket(int fd) const { return static_cast<unsigned>(fd) % chains_.bucket_count(); }
  void before_insert() {}
  const char* variant() const { return "chained"; }
};

}  // namespace

std::unique_ptr<SockIndex> make_chained_sockindex(unsigned buckets) {
  return std::make_unique<ChainedSockIndex>(buckets);
}

}  // namespace msb::detail
