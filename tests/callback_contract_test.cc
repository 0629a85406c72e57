// The socket-callback contract, checked over a workload that exercises every way a socket
// ends (completion, keep-alive caching, refusal, timeout, remove(), Multi destruction):
//  - no redundant calls: the same fd is never told the same `what` twice in a row;
//  - REMOVE only for a socket being watched, and before every close of a reported socket;
//  - nothing is left watched at the end.
// close() is observed through an injected SysCalls, so the order is the real one.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "drivers.h"
#include "raw_server.h"
#include "trickle_server.h"

namespace msb {
namespace {

struct ContractChecker {
  std::map<int, int> state;  // fd -> last `what` told (absent: not watched)
  std::vector<std::string> violations;
  std::uint64_t callbacks = 0, closes = 0, closes_after_remove = 0;

  void on_socket(int fd, int what) {
    ++callbacks;
    auto it = state.find(fd);
    if (what == kPollRemove) {
      if (it == state.end())
        violations.push_back("REMOVE for unwatched fd " + std::to_string(fd));
      else
        state.erase(it);
      return;
    }
    if (what != kPollIn && what != kPollOut && what != kPollInOut) {
      violations.push_back("bad what " + std::to_string(what));
    }
    if (it != state.end() && it->second == what) {
      violations.push_back("redundant " + std::string(poll_name(what)) + " for fd " +
                           std::to_string(fd));
    }
    state[fd] = what;
  }
  void on_close(int fd, bool was_reported) {
    ++closes;
    if (state.count(fd)) {
      violations.push_back("close of fd " + std::to_string(fd) + " still watched as " +
                           poll_name(state[fd]));
    } else if (was_reported) {
      ++closes_after_remove;
    }
  }
};

class ObservedSys : public SysCalls {
 public:
  explicit ObservedSys(ContractChecker& c) : checker_(c) {}
  SysResult socket(int domain, int type, int protocol) override {
    const SysResult r = SysCalls::socket(domain, type, protocol);
    if (!r.failed()) opened_[static_cast<int>(r.rc)] = true;
    return r;
  }
  SysResult close(int fd) override {
    checker_.on_close(fd, opened_[fd]);
    opened_.erase(fd);
    return SysCalls::close(fd);
  }

 private:
  ContractChecker& checker_;
  std::map<int, bool> opened_;
};

class CallbackContract : public ::testing::TestWithParam<std::string> {};

TEST_P(CallbackContract, NoRedundantCallsAndRemoveBeforeEveryClose) {
  test::raise_fd_limit();
  server::TrickleServer srv{server::ServerOptions{}};
  srv.start_thread();
  test::RawServer silent([](const std::string&) {
    return test::RawReply{"", test::RawReply::Then::hold};
  });
  const std::string refused = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";

  ContractChecker checker;
  ObservedSys sys(checker);
  MultiOptions opt;
  opt.sys = &sys;
  opt.max_cached_connections = 8;
  opt.socket_fn = [&checker](int fd, int what, void*) {
    checker.on_socket(fd, what);
    return 0;
  };
  std::vector<TransferId> to_remove;
  {
    test::LoopDriver driver(opt, GetParam());
    auto add = [&](const std::string& url, std::uint32_t total_ms = 20000) {
      TransferSpec s;
      s.url = url;
      s.total_timeout_ms = total_ms;
      auto r = driver.multi().add(s);
      EXPECT_TRUE(r) << r.detail;
      return r.id;
    };
    const auto& ep = srv.endpoints()[0];
    for (int i = 0; i < 50; ++i) {
      add(ep.url("/bytes/" + std::to_string(100 + i)));
      add(ep.url("/chunked/5000/333"));
      add(ep.url("/close/200"));
      add(ep.url("/trickle/6/20/2"));
    }
    for (int i = 0; i < 5; ++i) {
      add(refused);
      add(silent.url("/"), 200);
      to_remove.push_back(add(ep.url("/trickle/100/1000")));
    }
    // Run until only the long trickles are left, then abandon them with remove().
    EXPECT_FALSE(driver.run(std::chrono::milliseconds(1500)));
    for (TransferId id : to_remove) EXPECT_TRUE(driver.multi().remove(id));
    EXPECT_FALSE(driver.multi().remove(to_remove[0]));  // already gone
    EXPECT_TRUE(driver.run(std::chrono::seconds(20)));
    // A second round reuses cached connections, then some are left running when the Multi
    // is destroyed.
    for (int i = 0; i < 10; ++i) add(ep.url("/bytes/10"));
    EXPECT_TRUE(driver.run(std::chrono::seconds(20)));
    for (int i = 0; i < 5; ++i) add(ep.url("/idle"));
    EXPECT_FALSE(driver.run(std::chrono::milliseconds(300)));
    EXPECT_GT(driver.multi().stats().connections_reused, 0u);
    EXPECT_EQ(driver.done.size(), 200u + 10u + 10u);
  }
  for (const auto& v : checker.violations) ADD_FAILURE() << v;
  EXPECT_TRUE(checker.state.empty()) << checker.state.size() << " sockets still watched";
  EXPECT_GT(checker.callbacks, 400u);
  EXPECT_GT(checker.closes_after_remove, 200u);
}

TEST_P(CallbackContract, AssignedPointerComesBackWithEveryCall) {
  server::TrickleServer srv{server::ServerOptions{}};
  srv.start_thread();
  int token = 0;
  int calls_with_token = 0, calls = 0;
  MultiOptions opt;
  Multi* multi = nullptr;
  opt.socket_fn = [&](int fd, int what, void* p) {
    ++calls;
    if (p == &token) ++calls_with_token;
    if (what != kPollRemove && !p) {
      EXPECT_TRUE(multi->assign(fd, &token));
    }
    return 0;
  };
  test::LoopDriver driver(opt, GetParam());
  multi = &driver.multi();
  TransferSpec s;
  s.url = srv.endpoints()[0].url("/trickle/3/10");
  s.total_timeout_ms = 5000;
  ASSERT_TRUE(driver.multi().add(s));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  EXPECT_GE(calls, 3);  // OUT (connecting), IN (response), REMOVE
  EXPECT_EQ(calls_with_token, calls - 1);
  EXPECT_FALSE(driver.multi().assign(12345, &token));
}

INSTANTIATE_TEST_SUITE_P(Backends, CallbackContract, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

TEST(TimerCallback, AsksForZeroOnAddAndDeletesWhenIdle) {
  std::vector<long> timer_calls;
  MultiOptions opt;
  opt.timer_fn = [&](long ms) { timer_calls.push_back(ms); };
  Multi multi(opt);
  TransferSpec s;
  s.url = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
  auto id = multi.add(s).id;
  ASSERT_EQ(timer_calls, std::vector<long>{0});
  EXPECT_EQ(multi.timeout(), 0);
  EXPECT_TRUE(multi.remove(id));
  EXPECT_EQ(timer_calls, (std::vector<long>{0, -1}));
  EXPECT_EQ(multi.timeout(), -1);
}

}  // namespace
}  // namespace msb
