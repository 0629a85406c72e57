#include "memory/block_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <vector>

namespace msb::detail {
namespace {

struct Counted {
  explicit Counted(int v, bool fail = false) : value(v) {
    if (fail) throw std::runtime_error("constructor failed");
    ++alive;
  }
  ~Counted() { --alive; }
  int value;
  BlockPool<Counted>* pool = nullptr;
  static inline int alive = 0;
};

TEST(BlockPool, ObjectsAreDistinctAndBlocksHoldSixtyFourEach) {
  BlockPool<Counted> pool;
  std::vector<Counted*> made;
  std::set<const void*> addresses;
  for (int i = 0; i < 130; ++i) {
    made.push_back(pool.make(i));
    addresses.insert(made.back());
  }
  EXPECT_EQ(addresses.size(), 130u);
  EXPECT_EQ(pool.blocks(), 3u);  // 64 + 64 + 2
  EXPECT_EQ(Counted::alive, 130);
  for (int i = 0; i < 130; ++i) EXPECT_EQ(made[static_cast<std::size_t>(i)]->value, i);
  for (Counted* c : made) pool.destroy(c);
  EXPECT_EQ(Counted::alive, 0);
}

TEST(BlockPool, ADestroyedObjectsStorageIsReusedBeforeANewBlock) {
  BlockPool<Counted> pool;
  std::vector<Counted*> made;
  for (int i = 0; i < 64; ++i) made.push_back(pool.make(i));
  Counted* freed = made[10];
  pool.destroy(freed);
  made[10] = pool.make(99);
  EXPECT_EQ(made[10], freed);  // the free slot, not a 65th
  EXPECT_EQ(pool.blocks(), 1u);
  for (Counted* c : made) pool.destroy(c);
}

TEST(BlockPool, AThrowingConstructorGivesItsSlotBack) {
  BlockPool<Counted> pool;
  Counted* a = pool.make(1);
  EXPECT_THROW(pool.make(2, true), std::runtime_error);
  EXPECT_EQ(Counted::alive, 1);
  Counted* b = pool.make(3);
  EXPECT_EQ(pool.blocks(), 1u);
  EXPECT_EQ(b, a + 1);  // the slot the failed one took, handed out again
  pool.destroy(a);
  pool.destroy(b);
}

TEST(BlockPool, AnOwningPointerReturnsItsObjectToThePool) {
  BlockPool<Counted> pool;
  const Counted* where = nullptr;
  {
    PoolPtr<Counted> p = pool.make_owned(7);
    EXPECT_EQ(p->pool, &pool);
    where = p.get();
    EXPECT_EQ(Counted::alive, 1);
  }
  EXPECT_EQ(Counted::alive, 0);
  PoolPtr<Counted> again = pool.make_owned(8);
  EXPECT_EQ(again.get(), where);
}

}  // namespace
}  // namespace msb::detail
