// Asynchronous DNS with c-ares against real DNS servers on loopback: dnsmasq with records
// written here, and a port that never answers. Every backend.
#include <gtest/gtest.h>

#include <map>

#include "dns_server.h"
#include "drivers.h"
#include "trickle_server.h"

namespace msb {
namespace {

class Dns : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    test::raise_fd_limit();
    srv_.start_thread();
  }
  std::string url(const std::string& host, const std::string& path) const {
    return "http://" + host + ":" + std::to_string(srv_.endpoints()[0].port) + path;
  }
  server::TrickleServer srv_{server::ServerOptions{}};
};

std::vector<std::pair<std::string, std::string>> names(int n) {
  std::vector<std::pair<std::string, std::string>> r;
  for (int i = 0; i < n; ++i) r.emplace_back("s" + std::to_string(i) + ".msb.test", "127.0.0.1");
  return r;
}

TEST_P(Dns, NamesResolveAndTransfersComplete) {
  server::Dnsmasq dns(names(40));
  MultiOptions opt;
  opt.dns_servers = dns.server();
  opt.max_cached_connections = 0;  // every transfer resolves: none rides a kept-alive connection
  test::LoopDriver driver(opt, GetParam());
  // 40 distinct names, 4 transfers each, all at once: 40 lookups, 120 joins.
  for (int i = 0; i < 160; ++i) {
    TransferSpec s;
    s.url = url("s" + std::to_string(i % 40) + ".msb.test", "/bytes/21");
    s.total_timeout_ms = 20000;
    ASSERT_TRUE(driver.multi().add(s));
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(30)));
  ASSERT_EQ(driver.done.size(), 160u);
  for (const Done& d : driver.done) {
    ASSERT_EQ(d.result, Result::ok) << result_name(d.result);
    EXPECT_EQ(d.body_bytes, 21u);
    EXPECT_GE(d.timings.resolve_us, 0);
    EXPECT_GE(d.timings.connect_us, d.timings.resolve_us);
  }
  const MultiStats s = driver.multi().stats();
  EXPECT_EQ(s.dns_lookups, 40u);
  EXPECT_EQ(s.dns_joined + s.dns_cache_hits, 120u);
  EXPECT_EQ(s.dns_failures, 0u);
  EXPECT_EQ(s.resolve_ns.count(), 160u);  // every transfer's resolution, joined ones too
  // The whole point of a socket -> list index: one c-ares socket served many transfers.
  EXPECT_GT(s.max_socket_waiters, 1u);

  // Later transfers to a resolved name come from the cache, with no new lookup.
  TransferSpec again;
  again.url = url("s7.msb.test", "/bytes/3");
  ASSERT_TRUE(driver.multi().add(again));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  EXPECT_EQ(driver.done.back().result, Result::ok);
  EXPECT_EQ(driver.multi().stats().dns_lookups, 40u);
  EXPECT_EQ(driver.multi().stats().dns_cache_hits, s.dns_cache_hits + 1);
}

// More names than may be in flight: the rest wait their turn and go out as answers come
// back, and every transfer still resolves (none is lost or answered twice).
TEST_P(Dns, LookupsBeyondTheInFlightCapWaitTheirTurn) {
  server::Dnsmasq dns(names(30));
  MultiOptions opt;
  opt.dns_servers = dns.server();
  opt.dns_max_in_flight = 3;
  opt.max_cached_connections = 0;
  test::LoopDriver driver(opt, GetParam());
  for (int i = 0; i < 60; ++i) {  // 30 names, two transfers each
    TransferSpec s;
    s.url = url("s" + std::to_string(i % 30) + ".msb.test", "/bytes/5");
    s.total_timeout_ms = 20000;
    ASSERT_TRUE(driver.multi().add(s));
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(30)));
  ASSERT_EQ(driver.done.size(), 60u);
  for (const Done& d : driver.done) ASSERT_EQ(d.result, Result::ok) << result_name(d.result);
  const MultiStats s = driver.multi().stats();
  EXPECT_EQ(s.dns_lookups, 30u);
  EXPECT_EQ(s.dns_queued, 27u);  // all but the first three waited
  EXPECT_EQ(s.dns_joined + s.dns_cache_hits, 30u);
  EXPECT_EQ(s.dns_failures, 0u);
}

// An answer with TTL 0 must not be reused: every transfer asks again.
TEST_P(Dns, ZeroTtlIsNotCached) {
  server::Dnsmasq dns(names(1), /*ttl_s=*/0);
  MultiOptions opt;
  opt.dns_servers = dns.server();
  opt.max_cached_connections = 0;  // every transfer resolves: none rides a kept-alive connection
  test::LoopDriver driver(opt, GetParam());
  for (int round = 0; round < 3; ++round) {
    TransferSpec s;
    s.url = url("s0.msb.test", "/bytes/1");
    s.total_timeout_ms = 10000;
    ASSERT_TRUE(driver.multi().add(s));
    ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
    EXPECT_EQ(driver.done.back().result, Result::ok);
  }
  EXPECT_EQ(driver.multi().stats().dns_lookups, 3u);
  EXPECT_EQ(driver.multi().stats().dns_cache_hits, 0u);
}

TEST_P(Dns, NxdomainAndRefusedGiveTheirCodesQuickly) {
  server::Dnsmasq dns(names(1));
  MultiOptions opt;
  opt.dns_servers = dns.server();
  opt.max_cached_connections = 0;  // every transfer resolves: none rides a kept-alive connection
  opt.dns_timeout_ms = 3000;
  test::LoopDriver driver(opt, GetParam());
  std::map<TransferId, Result> want;
  for (const auto& [host, code] : std::vector<std::pair<std::string, Result>>{
           {"missing.msb.test", Result::couldnt_resolve},
           {"elsewhere.example", Result::resolve_server_failed},
           {"s0.msb.test", Result::ok}}) {
    TransferSpec s;
    s.url = url(host, "/bytes/1");
    s.total_timeout_ms = 20000;
    want[driver.multi().add(s).id] = code;
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(20)));
  ASSERT_EQ(driver.done.size(), 3u);
  for (const Done& d : driver.done) {
    EXPECT_EQ(result_name(d.result), std::string(result_name(want.at(d.id))));
    EXPECT_LT(d.timings.total_us, 2'000'000) << "answered, not timed out";
  }
}

TEST_P(Dns, SilentServerTimesOutWithinTheLookupTimeout) {
  server::SilentDns silent;
  MultiOptions opt;
  opt.dns_servers = silent.server();
  opt.dns_timeout_ms = 300;
  test::LoopDriver driver(opt, GetParam());
  TransferSpec s;
  s.url = url("s0.msb.test", "/bytes/1");
  s.total_timeout_ms = 20000;
  ASSERT_TRUE(driver.multi().add(s));
  // Meanwhile transfers to an address literal go on: the lookup blocks nothing.
  for (int i = 0; i < 5; ++i) {
    TransferSpec t;
    t.url = srv_.endpoints()[0].url("/trickle/3/30/1");
    t.total_timeout_ms = 20000;
    ASSERT_TRUE(driver.multi().add(t));
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(20)));
  ASSERT_EQ(driver.done.size(), 6u);
  int ok = 0;
  for (const Done& d : driver.done) {
    if (d.result == Result::ok) {
      ++ok;
      // They finished while the lookup was still waiting for its answer.
      EXPECT_LT(d.timings.total_us, 250'000);
    } else {
      EXPECT_EQ(d.result, Result::resolve_timed_out);
      // All three tries (t, 2t, 4t with t = 300/7 ms) fit in the 300 ms budget; a single
      // try would have given up after ~43 ms.
      EXPECT_GE(d.timings.total_us, 250'000);
      EXPECT_LT(d.timings.total_us, 2'000'000);
    }
  }
  EXPECT_EQ(ok, 5);
}

TEST_P(Dns, RemovingAResolvingTransferLeavesTheOthers) {
  server::Dnsmasq dns(names(1));
  MultiOptions opt;
  opt.dns_servers = dns.server();
  opt.max_cached_connections = 0;  // every transfer resolves: none rides a kept-alive connection
  test::LoopDriver driver(opt, GetParam());
  std::vector<TransferId> ids;
  for (int i = 0; i < 4; ++i) {
    TransferSpec s;
    s.url = url("s0.msb.test", "/bytes/2");
    s.total_timeout_ms = 20000;
    ids.push_back(driver.multi().add(s).id);
  }
  driver.multi().socket_action(kSocketTimeout, 0);  // all four start resolving
  EXPECT_TRUE(driver.multi().remove(ids[1]));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  ASSERT_EQ(driver.done.size(), 3u);
  for (const Done& d : driver.done) {
    EXPECT_NE(d.id, ids[1]);
    EXPECT_EQ(d.result, Result::ok);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Dns, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
