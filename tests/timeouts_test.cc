// Connect, total and low-speed timeouts against servers that misbehave in time. Waits are
// bounded by the driver's deadline; nothing sleeps.
#include <gtest/gtest.h>

#include "drivers.h"
#include "raw_server.h"
#include "trickle_server.h"

namespace msb {
namespace {

using std::chrono::seconds;

// Deadlines are the timer structure's business: every backend with every structure.
class Timeouts : public ::testing::TestWithParam<std::tuple<std::string, TimerKind>> {
 protected:
  Done run_one(TransferSpec spec) {
    MultiOptions opt;
    opt.timers = std::get<1>(GetParam());
    test::LoopDriver driver(opt, std::get<0>(GetParam()));
    auto added = driver.multi().add(spec);
    EXPECT_TRUE(added) << added.detail;
    EXPECT_TRUE(driver.run(seconds(20)));
    EXPECT_EQ(driver.done.size(), 1u);
    return driver.done.empty() ? Done{} : driver.done[0];
  }
};

TEST_P(Timeouts, TotalTimeoutOnServerThatNeverAnswers) {
  test::RawServer silent([](const std::string&) {
    return test::RawReply{"", test::RawReply::Then::hold};
  });
  TransferSpec spec;
  spec.url = silent.url("/");
  spec.total_timeout_ms = 300;
  const Done d = run_one(spec);
  EXPECT_EQ(d.result, Result::timed_out);
  EXPECT_EQ(d.expired, Expired::total);
  EXPECT_GE(d.timings.total_us, 300'000);
  EXPECT_GE(d.timings.connect_us, 0);  // it did connect
  EXPECT_EQ(d.http_status, 0);
}

TEST_P(Timeouts, LowSpeedTimeoutOnServerThatAcceptsAndStaysSilent) {
  test::RawServer silent([](const std::string&) {
    return test::RawReply{"", test::RawReply::Then::hold};
  });
  TransferSpec spec;
  spec.url = silent.url("/");
  spec.low_speed_limit = 10;
  spec.low_speed_time_ms = 300;
  spec.total_timeout_ms = 10000;
  const Done d = run_one(spec);
  EXPECT_EQ(d.result, Result::timed_out);
  EXPECT_EQ(d.expired, Expired::low_speed);
  EXPECT_GE(d.timings.total_us, 300'000);
}

TEST_P(Timeouts, LowSpeedTimeoutOnTrickleBelowTheLimit) {
  server::TrickleServer srv{server::ServerOptions{}};
  srv.start_thread();
  TransferSpec spec;
  spec.url = srv.endpoints()[0].url("/trickle/1000/100/1");  // 10 B/s
  spec.low_speed_limit = 200;                                // wants 200 B/s
  spec.low_speed_time_ms = 400;
  spec.total_timeout_ms = 10000;
  const Done d = run_one(spec);
  EXPECT_EQ(d.result, Result::timed_out);
  EXPECT_EQ(d.expired, Expired::low_speed);
  EXPECT_GT(d.body_bytes, 0u);
  EXPECT_LT(d.body_bytes, 1000u);
}

TEST_P(Timeouts, TrickleAboveTheLowSpeedLimitCompletes) {
  server::TrickleServer srv{server::ServerOptions{}};
  srv.start_thread();
  TransferSpec spec;
  spec.url = srv.endpoints()[0].url("/trickle/60/20/4");  // 200 B/s for 300 ms
  spec.low_speed_limit = 20;
  spec.low_speed_time_ms = 100;
  spec.total_timeout_ms = 10000;
  const Done d = run_one(spec);
  EXPECT_EQ(d.result, Result::ok) << expired_name(d.expired);
  EXPECT_EQ(d.body_bytes, 60u);
}

TEST_P(Timeouts, ConnectTimeoutWhenTheHandshakeNeverCompletes) {
  test::BlackholeListener hole;
  TransferSpec spec;
  spec.url = hole.url();
  spec.connect_timeout_ms = 300;
  spec.total_timeout_ms = 10000;
  const Done d = run_one(spec);
  EXPECT_EQ(d.result, Result::timed_out);
  EXPECT_EQ(d.expired, Expired::connect);
  EXPECT_EQ(d.timings.connect_us, -1);
  EXPECT_GE(d.timings.total_us, 300'000);
}

TEST_P(Timeouts, ConnectionRefused) {
  TransferSpec spec;
  spec.url = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
  spec.total_timeout_ms = 5000;
  const Done d = run_one(spec);
  EXPECT_EQ(d.result, Result::couldnt_connect);
  EXPECT_EQ(d.os_error, ECONNREFUSED);
}

// A transfer that sets no total timeout still gets one (curl's default of none would let a
// silent server hold it forever): its deadline is what the engine asks the loop to wait for.
TEST(DefaultTimeout, ATransferWithoutATotalTimeoutGetsTheTenMinuteDefault) {
  test::RawServer silent([](const std::string&) {
    return test::RawReply{"", test::RawReply::Then::hold};
  });
  test::LoopDriver driver({}, "epoll");
  TransferSpec spec;
  spec.url = silent.url("/");
  ASSERT_TRUE(driver.multi().add(spec));
  // Until the request is out, the only deadline left is the total one.
  for (int i = 0; i < 100 && driver.multi().stats().socket_callbacks < 2; ++i)
    driver.backend().run_once(10);
  const long ms = driver.multi().timeout();
  EXPECT_GT(ms, kDefaultTotalTimeoutMs - 5000);
  EXPECT_LE(ms, long{kDefaultTotalTimeoutMs});
  EXPECT_EQ(kDefaultTotalTimeoutMs, 600000u);
}

// 0 still means none, for whoever wants curl's behaviour: no deadline is armed at all.
TEST(DefaultTimeout, ZeroMeansNoTotalTimeout) {
  test::RawServer silent([](const std::string&) {
    return test::RawReply{"", test::RawReply::Then::hold};
  });
  test::LoopDriver driver({}, "epoll");
  TransferSpec spec;
  spec.url = silent.url("/");
  spec.total_timeout_ms = 0;
  ASSERT_TRUE(driver.multi().add(spec));
  for (int i = 0; i < 100 && driver.multi().stats().socket_callbacks < 2; ++i)
    driver.backend().run_once(10);
  EXPECT_EQ(driver.multi().timeout(), -1);
  EXPECT_EQ(driver.multi().stats().running, 1u);
}

// The engine reads time only through MultiOptions::clock: with a clock the test moves, an
// hour-long total timeout fires at once, and every timing is on the test's clock.
TEST(InjectedClock, DeadlinesAndTimingsFollowTheInjectedClock) {
  struct TestClock : Clock {
    std::int64_t now = 1'000'000'000;
    std::int64_t now_ns() override { return now; }
  } clock;
  test::RawServer silent([](const std::string&) {
    return test::RawReply{"", test::RawReply::Then::hold};
  });
  std::vector<long> timer_ms;
  MultiOptions opt;
  opt.clock = &clock;
  opt.timer_fn = [&](long ms) { timer_ms.push_back(ms); };
  Multi multi(opt);
  TransferSpec spec;
  spec.url = silent.url("/");
  spec.total_timeout_ms = 3'600'000;
  ASSERT_TRUE(multi.add(spec));
  multi.socket_action(kSocketTimeout, 0);  // starts: connects (loopback) and waits
  ASSERT_EQ(multi.timeout(), 3'600'000);   // nothing has moved the clock
  ASSERT_FALSE(timer_ms.empty());
  EXPECT_EQ(timer_ms.back(), 3'600'000);
  clock.now += 3'600'000LL * 1'000'000 - 1;
  EXPECT_EQ(multi.timeout(), 1);  // rounded up: never wakes early
  multi.socket_action(kSocketTimeout, 0);
  EXPECT_FALSE(multi.info_read());  // 1 ns early
  clock.now += 1;
  multi.socket_action(kSocketTimeout, 0);
  const auto d = multi.info_read();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->result, Result::timed_out);
  EXPECT_EQ(d->expired, Expired::total);
  EXPECT_EQ(d->timings.total_us, 3'600'000'000LL);
  EXPECT_EQ(multi.timeout(), -1);
}

INSTANTIATE_TEST_SUITE_P(
    BackendsTimers, Timeouts,
    ::testing::Combine(::testing::ValuesIn(test::all_backends()),
                       ::testing::Values(TimerKind::splay, TimerKind::heap, TimerKind::wheel)),
    [](const ::testing::TestParamInfo<std::tuple<std::string, TimerKind>>& info) {
      return std::get<0>(info.param) + "_" + timer_name(std::get<1>(info.param));
    });

}  // namespace
}  // namespace msb
