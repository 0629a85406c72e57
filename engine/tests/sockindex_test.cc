// Every socket-index variant against std::unordered_map under random operations, and the
// occupancy statistics against a direct count.
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include "sockindex/sockindex.h"

namespace msb::detail {
namespace {

struct Variant {
  SockIndexKind kind;
  unsigned buckets;
  const char* name;
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.name << v.buckets;
}

class SockIndexTest : public ::testing::TestWithParam<Variant> {
 protected:
  std::unique_ptr<SockIndex> make() { return make_sockindex(GetParam().kind, GetParam().buckets); }
};

TEST_P(SockIndexTest, MatchesUnorderedMapUnderRandomOperations) {
  auto index = make();
  std::unordered_map<int, SockEntry*> model;
  std::mt19937 rng(42);
  // fds as the kernel hands them out: small, dense, reused.
  std::uniform_int_distribution<int> fd(0, 3000);
  for (int op = 0; op < 200000; ++op) {
    const int f = fd(rng);
    const int what = static_cast<int>(rng() % 3);
    SockEntry* found = index->find(f);
    auto it = model.find(f);
    ASSERT_EQ(found, it == model.end() ? nullptr : it->second) << "fd " << f;
    if (what == 0 && !found) {
      SockEntry& e = index->insert(f);
      ASSERT_EQ(e.fd, f);
      model[f] = &e;
    } else if (what == 1 && found) {
      index->erase(f);
      model.erase(f);
    }
    ASSERT_EQ(index->size(), model.size());
  }
  std::size_t visited = 0;
  index->for_each([&](SockEntry& e) {
    ++visited;
    ASSERT_EQ(model.at(e.fd), &e);
  });
  EXPECT_EQ(visited, model.size());
}

TEST_P(SockIndexTest, OccupancyCountsEveryBucketAndEntry) {
  auto index = make();
  for (int f = 3; f < 2003; ++f) index->insert(f);
  const SockIndexStats s = index->stats();
  EXPECT_EQ(s.variant, std::string(GetParam().name));
  EXPECT_EQ(s.size, 2000u);
  std::uint64_t buckets = 0, entries = 0;
  for (std::size_t k = 0; k < s.occupancy.size(); ++k) {
    buckets += s.occupancy[k];
    entries += k * s.occupancy[k];
  }
  EXPECT_EQ(buckets, s.buckets);
  EXPECT_EQ(entries, s.size);
  EXPECT_DOUBLE_EQ(s.load_factor(), double(s.size) / double(s.buckets));
  EXPECT_EQ(s.max_chain + 1, s.occupancy.size());
}

TEST_P(SockIndexTest, ProbesPerLookupFollowTheDesign) {
  auto index = make();
  for (int f = 0; f < 1000; ++f) index->insert(f);
  for (int f = 0; f < 1000; ++f) ASSERT_NE(index->find(f), nullptr);
  const SockIndexStats s = index->stats();
  EXPECT_EQ(s.lookups, 1000u);
  if (GetParam().kind == SockIndexKind::chained) {
    // 1000 dense fds over b buckets: chains of ~1000/b; a hit walks half on average.
    const double chain = 1000.0 / GetParam().buckets;
    EXPECT_GT(s.probes_per_lookup(), chain / 2 * 0.8);
    EXPECT_LT(s.probes_per_lookup(), chain / 2 * 1.2 + 1);
  } else {
    EXPECT_DOUBLE_EQ(s.probes_per_lookup(), 1.0);  // load <= 1 and dense fds: one probe
    EXPECT_LE(s.load_factor(), 1.0);
  }
}

TEST_P(SockIndexTest, EntryHoldsSeveralWaiters) {
  auto index = make();
  SockEntry& e = index->insert(7);
  auto* a = reinterpret_cast<Transfer*>(0x10);
  auto* b = reinterpret_cast<Transfer*>(0x20);
  auto* c = reinterpret_cast<Transfer*>(0x30);
  e.add_waiter(a).want = kPollIn;
  e.add_waiter(b).want = kPollOut;
  e.add_waiter(c).want = kPollIn;
  EXPECT_EQ(e.waiter_count(), 3u);
  EXPECT_EQ(e.wanted(), kPollInOut);
  e.drop_waiter(b);
  EXPECT_EQ(e.wanted(), kPollIn);
  e.drop_waiter(a);
  EXPECT_EQ(e.find_waiter(c)->want, kPollIn);
  EXPECT_EQ(e.waiter_count(), 1u);
  e.drop_waiter(c);
  EXPECT_EQ(e.waiter_count(), 0u);
  EXPECT_EQ(e.wanted(), kPollNone);
}

INSTANTIATE_TEST_SUITE_P(Variants, SockIndexTest,
                         ::testing::Values(Variant{SockIndexKind::chained, 7, "chained"},
                                           Variant{SockIndexKind::chained, 97, "chained"},
                                           Variant{SockIndexKind::chained, 911, "chained"},
                                           Variant{SockIndexKind::resizable, 0, "resizable"},
                                           Variant{SockIndexKind::direct, 0, "direct"}),
                         [](const ::testing::TestParamInfo<Variant>& info) {
                           return std::string(info.param.name) +
                                  (info.param.kind == SockIndexKind::chained
                                       ? std::to_string(info.param.buckets)
                                       : "");
                         });

}  // namespace
}  // namespace msb::detail
