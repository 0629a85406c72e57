#include "conn_cache.h"

#include <gtest/gtest.h>

namespace msb::detail {
namespace {

std::unique_ptr<Connection> conn(int fd, const char* origin) {
  auto c = std::make_unique<Connection>();
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
  auto rest = cache.drain();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0]->fd, 5);
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
