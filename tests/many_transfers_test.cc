// Thousands of concurrent transfers against the trickle server on loopback, driven purely
// through socket_action() and the callbacks, and again through perform(). Every transfer's
// result, status and byte count is checked.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "drivers.h"
#include "trickle_server.h"

namespace msb {
namespace {

constexpr int kTransfers = 2000;

struct Expect {
  int status;
  std::uint64_t body;
  std::string content_prefix;  // the first body bytes
};

// Mostly trickles (so all of them are open at once), with every body framing mixed in.
std::string path_for(int i, Expect& e, std::string& m) {
  m = "GET";
  switch (i % 8) {
    case 0:
      e = {200, 1000, "abcdef"};
      return "/bytes/1000";
    case 1:
      e = {200, 3000, "abcdef"};
      return "/chunked/3000/700";
    case 2:
      e = {200, 500, "abcdef"};
      return "/close/500";
    case 3:
      e = {204, 0, ""};
      return "/status/204";
    case 4:
      m = "HEAD";
      e = {200, 0, ""};
      return "/bytes/12345";
    default:
      e = {200, 12, "abcdef"};
      return "/trickle/12/60/2";  // ~360 ms each
  }
}

// Runs `count` transfers on `backend` and checks every one.
void run_many(const std::string& backend, server::TrickleServer& srv, int count,
              TimerKind timers = TimerKind::splay) {
  MultiOptions opt;
  opt.timers = timers;
  test::LoopDriver driver(opt, backend);
  std::map<TransferId, Expect> expected;
  std::map<TransferId, std::string> received;
  for (int i = 0; i < count; ++i) {
    Expect e;
    std::string m;
    TransferSpec spec;
    spec.url = srv.endpoints()[0].url(path_for(i, e, m));
    spec.method = m;
    spec.total_timeout_ms = 60000;
    spec.sink = [&received](TransferId id, const char* d, std::size_t n) {
      auto& s = received[id];
      if (s.size() < 6) s.append(d, std::min<std::size_t>(n, 6 - s.size()));
    };
    auto added = driver.multi().add(spec);
    ASSERT_TRUE(added) << added.detail;
    expected[added.id] = e;
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(120)))
      << driver.multi().running() << " still running";
  ASSERT_EQ(driver.done.size(), static_cast<std::size_t>(count));
  for (const Done& d : driver.done) {
    const Expect& e = expected.at(d.id);
    ASSERT_EQ(d.result, Result::ok) << result_name(d.result) << " os_error " << d.os_error;
    EXPECT_EQ(d.http_status, e.status);
    EXPECT_EQ(d.body_bytes, e.body);
    EXPECT_EQ(received[d.id], e.content_prefix);
    EXPECT_GE(d.timings.total_us, d.timings.connect_us);
  }
  const MultiStats s = driver.multi().stats();
  EXPECT_EQ(s.transfers_done, static_cast<std::uint64_t>(count));
  EXPECT_EQ(s.by_result[static_cast<int>(Result::ok)], static_cast<std::uint64_t>(count));
  EXPECT_EQ(s.running, 0u);
  EXPECT_EQ(s.timers.size, 0u);
  // The trickles overlap: most transfers held a socket at the same time.
  EXPECT_GE(driver.max_watched, static_cast<std::size_t>(count * 3 / 8));
  // Each backend drives the engine its own way, and only that way.
  if (backend == "perform") {
    EXPECT_EQ(s.socket_action_calls, 0u);
    EXPECT_GT(s.perform_ns.count(), 0u);
  } else {
    EXPECT_EQ(s.perform_calls, 0u);
    EXPECT_GT(s.socket_action_socket_ns.count(), 0u);
    EXPECT_GT(s.socket_action_timer_ns.count(), 0u);
    EXPECT_GT(driver.backend().stats().modifies, 0u);
  }
  EXPECT_GT(driver.backend().stats().waits, 0u);
}

class ManyTransfers : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    test::raise_fd_limit();
    srv_.start_thread();
  }
  server::TrickleServer srv_{server::ServerOptions{}};
};

TEST_P(ManyTransfers, EveryFramingEveryTransferChecked) {
  run_many(GetParam(), srv_, test::fit_to_backend(GetParam(), kTransfers));
}

TEST_P(ManyTransfers, EveryFramingWithTheHeapTimers) {
  run_many(GetParam(), srv_, test::fit_to_backend(GetParam(), kTransfers), TimerKind::heap);
}

// All transfers in flight at the same moment: trickles that each last ~1 s.
TEST_P(ManyTransfers, AllConcurrentTrickles) {
  const int count = test::fit_to_backend(GetParam(), kTransfers);
  test::LoopDriver driver({}, GetParam());
  for (int i = 0; i < count; ++i) {
    TransferSpec spec;
    spec.url = srv_.endpoints()[0].url("/trickle/10/100/1");
    spec.total_timeout_ms = 60000;
    ASSERT_TRUE(driver.multi().add(spec));
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(120)));
  ASSERT_EQ(driver.done.size(), static_cast<std::size_t>(count));
  for (const Done& d : driver.done) {
    ASSERT_EQ(d.result, Result::ok) << result_name(d.result);
    ASSERT_EQ(d.body_bytes, 10u);
  }
  EXPECT_EQ(driver.max_watched, static_cast<std::size_t>(count));
  const MultiStats s = driver.multi().stats();
  EXPECT_EQ(s.connections_opened, static_cast<std::uint64_t>(count));
}

INSTANTIATE_TEST_SUITE_P(Backends, ManyTransfers, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

TEST(AddRefuses, UrlsAndHeadersItCannotHandle) {
  Multi multi(MultiOptions{});
  TransferSpec spec;
  spec.url = "ftp://127.0.0.1/";
  auto r = multi.add(spec);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error, Result::unsupported_protocol);
  EXPECT_NE(r.detail.find("ftp"), std::string::npos) << r.detail;
  spec.url = "http://127.0.0.1:99999/";
  EXPECT_EQ(multi.add(spec).error, Result::url_malformed);
  spec.url = "http://127.0.0.1/";
  spec.headers = {"X-Evil: a\r\nInjected: yes"};
  r = multi.add(spec);
  EXPECT_EQ(r.error, Result::bad_option);
  EXPECT_FALSE(r.detail.empty());
  EXPECT_EQ(multi.running(), 0);
  EXPECT_EQ(multi.stats().transfers_added, 0u);
}

TEST(Ipv6, LiteralLoopback) {
  server::ServerOptions o;
  o.addresses = {"::1"};
  server::TrickleServer srv(o);
  srv.start_thread();
  test::LoopDriver driver;
  TransferSpec spec;
  spec.url = srv.endpoints()[0].url("/bytes/77");
  ASSERT_EQ(spec.url.rfind("http://[::1]:", 0), 0u);
  spec.total_timeout_ms = 10000;
  ASSERT_TRUE(driver.multi().add(spec));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  ASSERT_EQ(driver.done.size(), 1u);
  EXPECT_EQ(driver.done[0].result, Result::ok);
  EXPECT_EQ(driver.done[0].body_bytes, 77u);
}

TEST(Hostname, ResolvesLocalhost) {
  server::TrickleServer srv(server::ServerOptions{});
  srv.start_thread();
  test::LoopDriver driver;
  TransferSpec spec;
  spec.url = "http://localhost:" + std::to_string(srv.endpoints()[0].port) + "/bytes/5";
  spec.total_timeout_ms = 10000;
  ASSERT_TRUE(driver.multi().add(spec));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  ASSERT_EQ(driver.done.size(), 1u);
  // localhost may resolve to ::1 first, where nothing listens: the engine moves on to
  // 127.0.0.1.
  EXPECT_EQ(driver.done[0].result, Result::ok) << result_name(driver.done[0].result);
  EXPECT_GE(driver.done[0].timings.resolve_us, 0);
}

}  // namespace
}  // namespace msb
