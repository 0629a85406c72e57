#include "sockindex/sockindex.h"

#include <algorithm>

namespace msb::detail {

std::unique_ptr<SockIndex> make_chained_sockindex(unsigned buckets);
std::unique_ptr<SockIndex> make_resizable_sockindex();
std::unique_ptr<SockIndex> make_direct_sockindex();

std::unique_ptr<SockIndex> make_sockindex(SockIndexKind kind, unsigned buckets) {
  switch (kind) {
    case SockIndexKind::chained:
      return make_chained_sockindex(buckets);
    case SockIndexKind::resizable:
      return make_resizable_sockindex();
    case SockIndexKind::direct:
      return make_direct_sockindex();
  }
  return make_resizable_sockindex();
}

int SockEntry::wanted() const {
  int w = first.want | resolver_want;
  for (const auto& m : more) w |= m.want;
  return w;
}

SockWaiter* SockEntry::find_waiter(const Transfer* t) {
  if (first.transfer == t) return &first;
  for (auto& m : more) {
    if (m.transfer == t) return &m;
  }
  return nullptr;
}

SockWaiter& SockEntry::add_waiter(Transfer* t) {
  if (!first.transfer) {
    first = SockWaiter{t, kPollNone};
    return first;
  }
  more.push_back(SockWaiter{t, kPollNone});
  return more.back();
}

void SockEntry::drop_waiter(const Transfer* t) {
  if (first.transfer == t) {
    if (more.empty()) {
      first = SockWaiter{};
    } else {
      first = more.back();
      more.pop_back();
    }
    return;
  }
  auto it =
      std::find_if(more.begin(), more.end(), [t](const SockWaiter& w) { return w.transfer == t; });
  if (it != more.end()) {
    *it = more.back();
    more.pop_back();
  }
}

}  // namespace msb::detail
