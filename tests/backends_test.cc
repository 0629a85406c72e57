// The Loop contract, backend by backend, on socket pairs: every registered backend starts here
// or is reported skipped with the reason; a socket with data left after one read is reported
// again (the engine reads once per event); an fd number reused after REMOVE and close gets
// none of the old socket's events.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <vector>

#include "drivers.h"
#include "msb/events.h"
#include "msb/loop.h"

namespace msb {
namespace {

class BackendStarts : public ::testing::TestWithParam<std::string> {};

TEST_P(BackendStarts, OrSaysWhyNot) {
  const std::string why = backend_unavailable(GetParam());
  if (!why.empty()) GTEST_SKIP() << GetParam() << ": " << why;
  const auto b = make_backend(GetParam());
  EXPECT_EQ(std::string(b->name()), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendStarts, ::testing::ValuesIn(backend_names()),
                         test::backend_test_name);

// Reads one byte per event, as the engine does, and records what it was given.
struct OneByteReader : LoopTarget {
  std::vector<std::pair<int, int>> seen;
  void on_socket(int fd, int events) override {
    seen.emplace_back(fd, events);
    char c;
    if (events & kEventIn) (void)::read(fd, &c, 1);
  }
  void on_timeout() override {}
};

std::vector<std::string> loop_backends() {
  std::vector<std::string> out;
  for (const auto& name : test::all_backends())
    if (find_backend(name)->callbacks) out.push_back(name);
  return out;
}

class LoopContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = make_backend(GetParam());
    loop_ = backend_->loop();
    ASSERT_NE(loop_, nullptr);
    loop_->attach(&reader_);
  }
  std::unique_ptr<Backend> backend_;
  Loop* loop_ = nullptr;
  OneByteReader reader_;
};

TEST_P(LoopContract, ASocketWithDataLeftIsReportedAgain) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  ASSERT_EQ(::write(sv[1], "abc", 3), 3);
  ASSERT_EQ(loop_->watch(sv[0], kPollIn), 0);
  for (int i = 0; i < 6 && reader_.seen.size() < 3; ++i) loop_->run_once_ns(100'000'000);
  ASSERT_EQ(reader_.seen.size(), 3u);  // one byte per event, three events
  for (const auto& [fd, events] : reader_.seen) {
    EXPECT_EQ(fd, sv[0]);
    EXPECT_TRUE(events & kEventIn);
  }
  loop_->run_once_ns(20'000'000);  // drained: nothing more
  EXPECT_EQ(reader_.seen.size(), 3u);
  loop_->watch(sv[0], kPollRemove);
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_P(LoopContract, AReusedFdNumberGetsNoneOfTheOldSocketsEvents) {
  int a[2], b[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0);
  ASSERT_EQ(loop_->watch(a[0], kPollIn), 0);
  loop_->run_once_ns(1'000'000);  // the watch is applied
  const int old_fd = a[0];
  loop_->watch(old_fd, kPollRemove);
  ::close(old_fd);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0);
  ASSERT_EQ(b[0], old_fd);  // the kernel hands out the lowest free number
  // The old socket's peer writes: a poll still armed on the old file would fire for the
  // number the new socket now has.
  (void)::send(a[1], "x", 1, MSG_NOSIGNAL);
  ASSERT_EQ(loop_->watch(b[0], kPollIn), 0);
  for (int i = 0; i < 3; ++i) loop_->run_once_ns(10'000'000);
  EXPECT_TRUE(reader_.seen.empty());  // nothing to read on the new socket yet
  ASSERT_EQ(::write(b[1], "y", 1), 1);
  for (int i = 0; i < 5 && reader_.seen.empty(); ++i) loop_->run_once_ns(100'000'000);
  ASSERT_EQ(reader_.seen.size(), 1u);
  EXPECT_EQ(reader_.seen[0].first, b[0]);
  loop_->watch(b[0], kPollRemove);
  for (int fd : {a[1], b[0], b[1]}) ::close(fd);
}

INSTANTIATE_TEST_SUITE_P(Backends, LoopContract, ::testing::ValuesIn(loop_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
