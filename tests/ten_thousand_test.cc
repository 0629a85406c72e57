// 10,000 concurrent connections on the backends built for it, each receiving a trickle,
// with the server in a child process (20,000 open files per process cannot be raised here).
#include <gtest/gtest.h>

#include "drivers.h"
#include "server_process.h"

namespace msb {
namespace {

constexpr int kConnections = 10000;

class TenThousand : public ::testing::TestWithParam<std::string> {};

TEST_P(TenThousand, EveryTrickleCompletesWithItsBytes) {
  test::raise_fd_limit();
  server::ServerProcess srv(server::ServerOptions{});  // forked before any thread starts
  test::LoopDriver driver({}, GetParam());
  // 16 bytes, one every 250 ms: each connection lives ~4 s, so all overlap.
  const std::string url = srv.endpoints()[0].url("/trickle/16/250/1");
  for (int i = 0; i < kConnections; ++i) {
    TransferSpec s;
    s.url = url;
    s.total_timeout_ms = 120000;
    ASSERT_TRUE(driver.multi().add(s));
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(150)))
      << driver.multi().running() << " still running";
  ASSERT_EQ(driver.done.size(), static_cast<std::size_t>(kConnections));
  int ok = 0;
  for (const Done& d : driver.done) {
    if (d.result == Result::ok && d.body_bytes == 16) ++ok;
  }
  EXPECT_EQ(ok, kConnections);
  EXPECT_EQ(driver.max_watched, static_cast<std::size_t>(kConnections));
  const MultiStats s = driver.multi().stats();
  EXPECT_EQ(s.by_result[static_cast<int>(Result::ok)], static_cast<std::uint64_t>(kConnections));
  // At least one readable event per connection. Not 16: a slow run (valgrind, a loaded
  // machine) may find two trickled bytes waiting and read them in one event.
  EXPECT_GE(driver.backend().stats().events, static_cast<std::uint64_t>(kConnections));
}

INSTANTIATE_TEST_SUITE_P(Backends, TenThousand, ::testing::Values("epoll", "libev"),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
