// A socket the event loop cannot watch fails its own transfer with watch_failed, never
// corrupting memory or stalling the others: select() past FD_SETSIZE, and a refusal
// returned by the socket callback on any backend.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/select.h>
#include <unistd.h>

#include "drivers.h"
#include "trickle_server.h"

namespace msb {
namespace {

TEST(SelectBackend, FdPastFdSetsizeFailsTheTransferClearly) {
  test::raise_fd_limit();
  server::TrickleServer srv{server::ServerOptions{}};
  srv.start_thread();
  // Push the next fd numbers past FD_SETSIZE.
  std::vector<int> filler;
  while (filler.empty() || filler.back() < FD_SETSIZE + 8) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    filler.push_back(fd);
  }
  test::LoopDriver driver({}, "select");
  for (int i = 0; i < 3; ++i) {
    TransferSpec s;
    s.url = srv.endpoints()[0].url("/bytes/10");
    s.total_timeout_ms = 5000;
    ASSERT_TRUE(driver.multi().add(s));
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  ASSERT_EQ(driver.done.size(), 3u);
  for (const Done& d : driver.done) {
    EXPECT_EQ(d.result, Result::watch_failed);
    EXPECT_NE(std::string(result_message(d.result)).find("FD_SETSIZE"), std::string::npos);
  }
  EXPECT_EQ(driver.multi().stats().sockindex.size, 0u);  // nothing left behind

  // The same transfers succeed once fds are low again: it was the fd number, nothing else.
  for (int fd : filler) ::close(fd);
  TransferSpec s;
  s.url = srv.endpoints()[0].url("/bytes/10");
  s.total_timeout_ms = 5000;
  ASSERT_TRUE(driver.multi().add(s));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  ASSERT_EQ(driver.done.size(), 4u);
  EXPECT_EQ(driver.done.back().result, Result::ok);
  EXPECT_EQ(driver.done.back().body_bytes, 10u);
}

class WatchRefusal : public ::testing::TestWithParam<std::string> {};

TEST_P(WatchRefusal, RefusedSocketFailsOnlyItsTransfer) {
  server::TrickleServer srv{server::ServerOptions{}};
  srv.start_thread();
  int refused_fd = -1;
  MultiOptions opt;
  opt.socket_fn = [&refused_fd](int fd, int what, void*) {
    if (refused_fd < 0 && what != kPollRemove) refused_fd = fd;
    return fd == refused_fd && what != kPollRemove ? -1 : 0;
  };
  test::LoopDriver driver(opt, GetParam());
  for (int i = 0; i < 20; ++i) {
    TransferSpec s;
    s.url = srv.endpoints()[0].url("/trickle/4/20/1");
    s.total_timeout_ms = 10000;
    ASSERT_TRUE(driver.multi().add(s));
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(20)));
  ASSERT_EQ(driver.done.size(), 20u);
  int failed = 0;
  for (const Done& d : driver.done) {
    if (d.result == Result::watch_failed) {
      ++failed;
    } else {
      EXPECT_EQ(d.result, Result::ok) << result_name(d.result);
      EXPECT_EQ(d.body_bytes, 4u);
    }
  }
  EXPECT_EQ(failed, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, WatchRefusal, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
