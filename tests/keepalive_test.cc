// Keep-alive reuse through the bounded connection cache.
#include <gtest/gtest.h>

#include "drivers.h"
#include "raw_server.h"
#include "trickle_server.h"

namespace msb {
namespace {

Done fetch(test::LoopDriver& driver, const std::string& url) {
  TransferSpec s;
  s.url = url;
  s.total_timeout_ms = 10000;
  EXPECT_TRUE(driver.multi().add(s));
  EXPECT_TRUE(driver.run(std::chrono::seconds(10)));
  EXPECT_FALSE(driver.done.empty());
  return driver.done.empty() ? Done{} : driver.done.back();
}

class KeepAlive : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { srv_.start_thread(); }
  server::TrickleServer srv_{server::ServerOptions{}};
};

TEST_P(KeepAlive, SequentialTransfersShareOneConnection) {
  test::LoopDriver driver({}, GetParam());
  const auto& ep = srv_.endpoints()[0];
  EXPECT_FALSE(fetch(driver, ep.url("/bytes/100")).reused_connection);
  for (const char* path : {"/chunked/900/100", "/bytes/0", "/status/204", "/bytes/5"}) {
    const Done d = fetch(driver, ep.url(path));
    EXPECT_EQ(d.result, Result::ok) << path;
    EXPECT_TRUE(d.reused_connection) << path;
  }
  const MultiStats s = driver.multi().stats();
  EXPECT_EQ(s.connections_opened, 1u);
  EXPECT_EQ(s.connections_reused, 4u);
  EXPECT_EQ(srv_.stats().accepted, 1u);
}

TEST_P(KeepAlive, ConnectionCloseAndCloseDelimitedBodiesAreNotReused) {
  test::LoopDriver driver({}, GetParam());
  const auto& ep = srv_.endpoints()[0];
  fetch(driver, ep.url("/close/10"));
  EXPECT_FALSE(fetch(driver, ep.url("/bytes/10")).reused_connection);
  TransferSpec s;
  s.url = ep.url("/bytes/10");
  s.headers = {"Connection: close"};
  ASSERT_TRUE(driver.multi().add(s));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  EXPECT_EQ(driver.done.back().result, Result::ok);
  EXPECT_TRUE(driver.done.back().reused_connection);
  EXPECT_FALSE(fetch(driver, ep.url("/bytes/10")).reused_connection);
  EXPECT_EQ(driver.multi().stats().connections_opened, 3u);
}

TEST_P(KeepAlive, CacheOfZeroNeverReuses) {
  MultiOptions opt;
  opt.max_cached_connections = 0;
  test::LoopDriver driver(opt, GetParam());
  for (int i = 0; i < 3; ++i)
    EXPECT_FALSE(fetch(driver, srv_.endpoints()[0].url("/bytes/1")).reused_connection);
  EXPECT_EQ(driver.multi().stats().connections_opened, 3u);
}

// The server says keep-alive but closes anyway: the next transfer must notice (liveness
// check, or a retry when the first read finds the connection dead) and succeed on a fresh
// connection.
TEST_P(KeepAlive, ServerClosedTheCachedConnection) {
  test::RawServer liar([](const std::string&) {
    return test::RawReply{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
  });
  test::LoopDriver driver({}, GetParam());
  for (int i = 0; i < 5; ++i) {
    const Done d = fetch(driver, liar.url("/"));
    EXPECT_EQ(d.result, Result::ok) << result_name(d.result) << " round " << i;
    EXPECT_EQ(d.body_bytes, 2u);
  }
  EXPECT_EQ(driver.multi().stats().connections_opened, 5u);
  EXPECT_EQ(liar.accepted(), 5);
}

INSTANTIATE_TEST_SUITE_P(Backends, KeepAlive, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
