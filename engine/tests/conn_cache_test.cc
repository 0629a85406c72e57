#include "core/conn_cache.h"

#include <gtest/gtest.h>

namespace msb::detail {
namespace {

ConnectionPtr conn(int fd, const char* origin) {
  static BlockPool<Connection> pool;  // outlives every test's cache
  auto c = pool.make_owned();
  c->fd = fd;
  c->origin = origin;
  return c;
}

TEST(ConnCache, TakesByOriginAndEvictsTheOldest) {
  ConnCache cache(2);
  EXPECT_EQ(cache.put(conn(3, "a:80")), nullptr);
  EXPECT_EQ(cache.put(conn(4, "b:80")), nullptr);
  auto evicted = cache.put(conn(5, "a:80"));
  ASSERT_NE(evicted, nullptr);
  EXPECT_EQ(evicted->fd, 3);  // idle the longest
  EXPECT_EQ(cache.take("c:80"), nullptr);
  auto b = cache.take("b:80");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->fd, 4);
  EXPECT_EQ(cache.take("b:80"), nullptr);
  EXPECT_EQ(cache.size(), 1u);
  auto rest = cache.take_oldest();
  ASSERT_NE(rest, nullptr);
  EXPECT_EQ(rest->fd, 5);
  EXPECT_EQ(cache.take_oldest(), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ConnCache, EmptiesOldestFirstAndForgetsTheOrigins) {
  ConnCache cache(3);
  cache.put(conn(3, "a:80"));
  cache.put(conn(4, "a:80"));
  cache.put(conn(5, "b:80"));
  for (int fd : {3, 4, 5}) {
    auto c = cache.take_oldest();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->fd, fd);
  }
  EXPECT_EQ(cache.take("a:80"), nullptr);
  EXPECT_EQ(cache.take("b:80"), nullptr);
}

TEST(ConnCache, ZeroCapacityCachesNothing) {
  ConnCache cache(0);
  auto back = cache.put(conn(9, "a:80"));
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->fd, 9);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace msb::detail
