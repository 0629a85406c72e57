// Hostile and broken replies: each ends its own transfer with a precise result code while
// the good transfers running beside them complete untouched.
#include <gtest/gtest.h>

#include <map>

#include "drivers.h"
#include "raw_server.h"
#include "trickle_server.h"

namespace msb {
namespace {

// Literals with a NUL inside keep their full length ("...\0..."s).
using namespace std::string_literals;

using Then = test::RawReply::Then;

struct Case {
  test::RawReply reply;
  Result want;
};

const std::map<std::string, Case>& cases() {
  static const std::map<std::string, Case> c = {
      {"/garbage", {{"GARBAGE\r\n\r\n"}, Result::bad_status_line}},
      {"/oversized",
       {{"HTTP/1.1 200 OK\r\nX-Big: " + std::string(100000, 'a') + "\r\n\r\n"},
        Result::headers_too_large}},
      {"/bad_chunk",
       {{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}, Result::bad_chunk}},
      {"/conflicting_length",
       {{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"},
        Result::bad_content_length}},
      {"/premature_close",
       {{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"}, Result::partial_body}},
      {"/nul_bytes", {{"HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"s}, Result::bad_header}},
      {"/empty", {{""}, Result::empty_reply}},
      // A TLS server where plain HTTP was asked for: its handshake_failure alert.
      {"/tls_alert", {{"\x15\x03\x01\x00\x02\x02\x28"s}, Result::tls_record_error}},
      {"/reset", {{"", Then::reset}, Result::recv_error}},
      {"/reset_mid_body",
       {{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", Then::reset}, Result::recv_error}},
      {"/headers_never_end", {{"HTTP/1.1 200 OK\r\nX: y\r\n", Then::hold}, Result::timed_out}},
      {"/closed_in_headers", {{"HTTP/1.1 200 OK\r\nX: y\r\n"}, Result::partial_headers}},
  };
  return c;
}

class HostileServer : public ::testing::TestWithParam<std::string> {};

TEST_P(HostileServer, EachBadReplyEndsOnlyItsTransferWithAPreciseCode) {
  test::raise_fd_limit();
  test::RawServer bad([](const std::string& path) {
    auto it = cases().find(path);
    return it == cases().end() ? test::RawReply{"HTTP/1.1 404 X\r\n\r\n"} : it->second.reply;
  });
  server::TrickleServer good{server::ServerOptions{}};
  good.start_thread();

  test::LoopDriver driver({}, GetParam());
  std::map<TransferId, std::string> bad_ids;
  std::map<TransferId, bool> good_ids;
  for (int round = 0; round < 10; ++round) {
    for (const auto& [path, c] : cases()) {
      TransferSpec s;
      s.url = bad.url(path);
      s.total_timeout_ms = 1500;
      auto r = driver.multi().add(s);
      ASSERT_TRUE(r);
      bad_ids[r.id] = path;
    }
    for (int i = 0; i < 20; ++i) {
      TransferSpec s;
      s.url = good.endpoints()[0].url("/trickle/30/30/3");
      s.total_timeout_ms = 20000;
      auto r = driver.multi().add(s);
      ASSERT_TRUE(r);
      good_ids[r.id] = true;
    }
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(60)));
  ASSERT_EQ(driver.done.size(), bad_ids.size() + good_ids.size());
  for (const Done& d : driver.done) {
    if (good_ids.count(d.id)) {
      EXPECT_EQ(d.result, Result::ok) << result_name(d.result);
      EXPECT_EQ(d.body_bytes, 30u);
      continue;
    }
    const std::string& path = bad_ids.at(d.id);
    EXPECT_EQ(result_name(d.result), std::string(result_name(cases().at(path).want))) << path;
    if (d.result == Result::recv_error) {
      EXPECT_EQ(d.os_error, ECONNRESET) << path;
    }
  }
  const MultiStats s = driver.multi().stats();
  std::uint64_t sum = 0;
  for (auto n : s.by_result) sum += n;
  EXPECT_EQ(sum, s.transfers_done);
  EXPECT_EQ(s.transfers_done, s.transfers_added);
}

INSTANTIATE_TEST_SUITE_P(Backends, HostileServer, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb

namespace msb {
namespace {

// The trickle server's own fault modes (what scenarios' `fault` key asks for).
class ServerFaults : public ::testing::TestWithParam<std::string> {};

TEST_P(ServerFaults, EachModeEndsWithItsCode) {
  server::TrickleServer srv{server::ServerOptions{}};
  srv.start_thread();
  const std::map<std::string, Result> want = {
      {"/fault/reset", Result::recv_error},
      {"/fault/close_early", Result::partial_body},
      {"/fault/garbage", Result::bad_status_line},
      {"/fault/stall", Result::timed_out},
      {"/bytes/3", Result::ok},
  };
  test::LoopDriver driver({}, GetParam());
  std::map<TransferId, std::string> paths;
  for (int round = 0; round < 5; ++round) {
    for (const auto& [path, code] : want) {
      TransferSpec s;
      s.url = srv.endpoints()[0].url(path);
      s.total_timeout_ms = 500;
      auto r = driver.multi().add(s);
      ASSERT_TRUE(r);
      paths[r.id] = path;
    }
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(20)));
  ASSERT_EQ(driver.done.size(), paths.size());
  for (const Done& d : driver.done) {
    const std::string& path = paths.at(d.id);
    EXPECT_EQ(result_name(d.result), std::string(result_name(want.at(path)))) << path;
    if (path == "/fault/close_early") {
      EXPECT_EQ(d.body_bytes, 10u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerFaults, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
