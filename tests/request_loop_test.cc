// Request loops on one connection: a transfer that sends its request `requests` times,
// `pipeline` at once, `think_time_ms` apart, reports each response as it completes, and opens
// a new connection whenever the server closes one.
#include <gtest/gtest.h>

#include <vector>

#include "drivers.h"
#include "raw_server.h"
#include "trickle_server.h"

namespace msb {
namespace {

class RequestLoops : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { srv_.start_thread(); }
  // Options that collect every response.
  MultiOptions options() {
    MultiOptions opt;
    opt.response_fn = [this](const Response& r) { responses_.push_back(r); };
    return opt;
  }
  server::TrickleServer srv_{server::ServerOptions{}};
  std::vector<Response> responses_;
};

TEST_P(RequestLoops, OneConnectionCarriesEveryRequestOfTheLoop) {
  test::LoopDriver d(options(), GetParam());
  TransferSpec spec;
  spec.url = srv_.endpoints()[0].url("/bytes/7");
  spec.requests = 5;
  ASSERT_TRUE(d.multi().add(spec));
  ASSERT_TRUE(d.run(std::chrono::seconds(10)));
  ASSERT_EQ(d.done.size(), 1u);
  EXPECT_EQ(d.done[0].result, Result::ok);
  EXPECT_EQ(d.done[0].responses, 5u);
  EXPECT_EQ(d.done[0].body_bytes, 35u);
  ASSERT_EQ(responses_.size(), 5u);
  for (std::uint32_t i = 0; i < 5; ++i) {
    EXPECT_EQ(responses_[i].index, i);
    EXPECT_EQ(responses_[i].http_status, 200);
    EXPECT_EQ(responses_[i].body_bytes, 7u);
    EXPECT_EQ(responses_[i].new_connection, i == 0);
    EXPECT_LE(responses_[i].sent_ns, responses_[i].first_byte_ns);
    EXPECT_LE(responses_[i].first_byte_ns, responses_[i].done_ns);
    if (i) {
      EXPECT_GE(responses_[i].sent_ns, responses_[i - 1].done_ns);  // one at a time
    }
  }
  EXPECT_EQ(d.multi().stats().connections_opened, 1u);
  EXPECT_EQ(d.multi().stats().responses, 5u);
  EXPECT_EQ(srv_.stats().accepted, 1u);
  EXPECT_EQ(srv_.stats().requests, 5u);
}

TEST_P(RequestLoops, APipelineWritesItsBatchBeforeReadingIt) {
  test::LoopDriver d(options(), GetParam());
  TransferSpec spec;
  spec.url = srv_.endpoints()[0].url("/bytes/3");
  spec.requests = 7;
  spec.pipeline = 3;  // batches of 3, 3 and 1
  ASSERT_TRUE(d.multi().add(spec));
  ASSERT_TRUE(d.run(std::chrono::seconds(10)));
  ASSERT_EQ(d.done.size(), 1u);
  EXPECT_EQ(d.done[0].result, Result::ok);
  EXPECT_EQ(d.done[0].responses, 7u);
  ASSERT_EQ(responses_.size(), 7u);
  // A batch shares its send time; the next batch goes out after the last of it is read.
  EXPECT_EQ(responses_[0].sent_ns, responses_[2].sent_ns);
  EXPECT_GE(responses_[3].sent_ns, responses_[2].done_ns);
  EXPECT_EQ(responses_[3].sent_ns, responses_[5].sent_ns);
  EXPECT_GE(responses_[6].sent_ns, responses_[5].done_ns);
  EXPECT_EQ(srv_.stats().accepted, 1u);
  EXPECT_EQ(srv_.stats().requests, 7u);
}

TEST_P(RequestLoops, AServerThatClosesGetsANewConnectionForTheNextRequest) {
  test::RawServer closing([](const std::string&) {
    return test::RawReply{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nz"};
  });
  test::LoopDriver d(options(), GetParam());
  TransferSpec spec;
  spec.url = closing.url("/");
  spec.requests = 4;
  ASSERT_TRUE(d.multi().add(spec));
  ASSERT_TRUE(d.run(std::chrono::seconds(10)));
  ASSERT_EQ(d.done.size(), 1u);
  EXPECT_EQ(d.done[0].result, Result::ok);
  EXPECT_EQ(d.done[0].responses, 4u);
  EXPECT_EQ(closing.accepted(), 4);
  EXPECT_EQ(d.multi().stats().connections_opened, 4u);
  for (const Response& r : responses_) EXPECT_TRUE(r.new_connection);
}

TEST_P(RequestLoops, ThinkTimeSpacesTheRequests) {
  test::LoopDriver d(options(), GetParam());
  TransferSpec spec;
  spec.url = srv_.endpoints()[0].url("/bytes/1");
  spec.requests = 3;
  spec.think_time_ms = 40;
  ASSERT_TRUE(d.multi().add(spec));
  ASSERT_TRUE(d.run(std::chrono::seconds(10)));
  ASSERT_EQ(responses_.size(), 3u);
  EXPECT_EQ(d.done[0].result, Result::ok);
  for (int i = 1; i < 3; ++i)
    EXPECT_GE(responses_[i].sent_ns - responses_[i - 1].done_ns, 40'000'000);
  EXPECT_EQ(srv_.stats().accepted, 1u);  // the connection waited, and was used again
}

TEST_P(RequestLoops, AnEndlessLoopRunsUntilRemoved) {
  test::LoopDriver d(options(), GetParam());
  TransferSpec spec;
  spec.url = srv_.endpoints()[0].url("/bytes/2");
  spec.requests = 0;
  const AddResult added = d.multi().add(spec);
  ASSERT_TRUE(added);
  for (int i = 0; i < 2000 && responses_.size() < 50; ++i) d.backend().run_once(10);
  ASSERT_GE(responses_.size(), 50u);
  EXPECT_EQ(d.multi().running(), 1);
  EXPECT_TRUE(d.multi().remove(added.id));
  EXPECT_EQ(d.multi().running(), 0);
  EXPECT_EQ(srv_.stats().accepted, 1u);
}

TEST_P(RequestLoops, AFailureEndsTheLoopWithItsCodeAfterTheGoodResponses) {
  test::RawServer once([](const std::string&) {
    // Two good responses in one write, then garbage: the third request fails.
    return test::RawReply{
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"
        "GARBAGE\r\n\r\n",
        test::RawReply::Then::hold};
  });
  test::LoopDriver d(options(), GetParam());
  TransferSpec spec;
  spec.url = once.url("/");
  spec.requests = 5;
  spec.pipeline = 3;
  ASSERT_TRUE(d.multi().add(spec));
  ASSERT_TRUE(d.run(std::chrono::seconds(10)));
  ASSERT_EQ(d.done.size(), 1u);
  EXPECT_EQ(d.done[0].result, Result::bad_status_line);
  EXPECT_EQ(d.done[0].responses, 2u);
  EXPECT_EQ(d.done[0].body_bytes, 2u);
  EXPECT_EQ(responses_.size(), 2u);
}

// end_loop, the graceful drain: what was sent is answered, nothing new goes out, and a loop
// that has not made its first request yet makes it, so that its Done says how it went.
TEST_P(RequestLoops, EndingALoopLetsWhatWasSentBeAnswered) {
  test::LoopDriver d(options(), GetParam());
  TransferSpec spec;
  spec.url = srv_.endpoints()[0].url("/delay/100/5");
  spec.requests = 0;
  const AddResult added = d.multi().add(spec);
  ASSERT_TRUE(added);
  for (int i = 0; i < 100 && srv_.stats().requests == 0; ++i) d.backend().run_once(10);
  ASSERT_EQ(srv_.stats().requests, 1u);
  EXPECT_TRUE(d.multi().end_loop(added.id));
  ASSERT_TRUE(d.run(std::chrono::seconds(10)));
  ASSERT_EQ(d.done.size(), 1u);
  EXPECT_EQ(d.done[0].result, Result::ok);
  EXPECT_EQ(d.done[0].responses, 1u);
  EXPECT_EQ(srv_.stats().requests, 1u);
}

TEST_P(RequestLoops, EndingALoopBetweenRequestsEndsItOkAtOnce) {
  test::LoopDriver d(options(), GetParam());
  TransferSpec spec;
  spec.url = srv_.endpoints()[0].url("/bytes/2");
  spec.requests = 0;
  spec.think_time_ms = 60000;
  const AddResult added = d.multi().add(spec);
  ASSERT_TRUE(added);
  for (int i = 0; i < 100 && responses_.empty(); ++i) d.backend().run_once(10);
  ASSERT_EQ(responses_.size(), 1u);
  EXPECT_TRUE(d.multi().end_loop(added.id));
  ASSERT_TRUE(d.run(std::chrono::seconds(1)));
  ASSERT_EQ(d.done.size(), 1u);
  EXPECT_EQ(d.done[0].result, Result::ok);
  EXPECT_EQ(d.done[0].responses, 1u);
}

TEST_P(RequestLoops, EndingALoopBeforeItsFirstResponseReportsHowThatRequestWent) {
  // The connection never completes: ending the loop must not turn that into an ok (a
  // drained run whose every request failed would have reported success).
  test::BlackholeListener hole;
  test::LoopDriver d(options(), GetParam());
  TransferSpec spec;
  spec.url = hole.url();
  spec.requests = 0;
  spec.connect_timeout_ms = 300;
  const AddResult added = d.multi().add(spec);
  ASSERT_TRUE(added);
  for (int i = 0; i < 3; ++i) d.backend().run_once(10);
  ASSERT_EQ(d.multi().running(), 1);
  EXPECT_TRUE(d.multi().end_loop(added.id));
  ASSERT_TRUE(d.run(std::chrono::seconds(10)));
  ASSERT_EQ(d.done.size(), 1u);
  EXPECT_EQ(d.done[0].result, Result::timed_out) << result_name(d.done[0].result);
  EXPECT_EQ(d.done[0].responses, 0u);
}

// Wakeup coalescing (the closed model's) changes when the loop sleeps, never what happens:
// every loop still completes every request, and one that stands idle still wakes.
TEST_P(RequestLoops, CoalescedWakeupsLoseNothing) {
  test::LoopDriver d(options(), GetParam());
  d.backend().set_coalescing(20'000);
  for (int i = 0; i < 8; ++i) {
    TransferSpec spec;
    spec.url = srv_.endpoints()[0].url(i % 2 ? "/bytes/50" : "/delay/20/5");
    spec.requests = 25;
    ASSERT_TRUE(d.multi().add(spec));
  }
  ASSERT_TRUE(d.run(std::chrono::seconds(20)));
  ASSERT_EQ(d.done.size(), 8u);
  for (const Done& done : d.done) {
    EXPECT_EQ(done.result, Result::ok);
    EXPECT_EQ(done.responses, 25u);
  }
  EXPECT_EQ(responses_.size(), 200u);
}

INSTANTIATE_TEST_SUITE_P(Backends, RequestLoops, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
