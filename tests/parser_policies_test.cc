// The response parser's policies (the table in engine/src/http1/http1_parser.h), end to
// end: each shape is served from a loopback socket to a real Multi on every backend, and
// the transfer's result, status and body length are checked, and whether its connection
// was kept for reuse (cached, not closed) or closed.
#include <gtest/gtest.h>

#include <map>

#include "drivers.h"
#include "raw_server.h"

namespace msb {
namespace {

using Then = test::RawReply::Then;

struct Case {
  std::string bytes;
  Then then;
  Result result;
  int status;
  std::uint64_t body_bytes;
  bool kept;  // the connection went to the cache instead of being closed
};

const std::map<std::string, Case>& cases() {
  static const std::map<std::string, Case> c = {
      {"/status_999",
       {"HTTP/1.1 999 Odd\r\nContent-Length: 3\r\n\r\nabc", Then::hold, Result::ok, 999, 3, true}},
      {"/status_099",
       {"HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n", Then::hold, Result::bad_status_line, 0, 0,
        false}},
      {"/obs_fold",
       {"HTTP/1.1 200 OK\r\nX-A: b\r\n  folded\r\nContent-Length: 2\r\n\r\nok", Then::hold,
        Result::ok, 200, 2, true}},
      {"/obs_fold_connection_close",
       {"HTTP/1.1 200 OK\r\nConnection:\r\n close\r\nContent-Length: 1\r\n\r\nz", Then::hold,
        Result::ok, 200, 1, false}},
      {"/fold_after_status",
       {"HTTP/1.1 200 OK\r\n X: b\r\n\r\n", Then::hold, Result::bad_header, 200, 0, false}},
      {"/empty_lines_after_1xx",
       {"HTTP/1.1 100 Continue\r\n\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nk",
        Then::hold, Result::ok, 200, 1, true}},
      {"/coding_chunked_another",
       {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, another\r\n\r\nzzzz", Then::hold,
        Result::unsupported_coding, 200, 0, false}},
      {"/coding_gzip",
       {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", Then::close,
        Result::unsupported_coding, 200, 0, false}},
      {"/control_chars",
       {"HTTP/1.1 200 OK\r\nX-A: a\x01\x7f\r\nContent-Length: 1\r\n\r\nz", Then::hold, Result::ok,
        200, 1, true}},
      {"/control_char_in_length",
       {"HTTP/1.1 200 OK\r\nContent-Length: 1\x01\r\n\r\nz", Then::hold, Result::bad_content_length,
        200, 0, false}},
      {"/length_leading_zeros",
       {"HTTP/1.1 200 OK\r\nContent-Length: 0000000000000000000005\r\n\r\nhello", Then::hold,
        Result::ok, 200, 5, true}},
      {"/chunk_leading_zeros",
       {"HTTP/1.1 200 OK\r\nTransfer-Encoding: "
        "chunked\r\n\r\n0000000000000005\r\nhello\r\n0\r\n\r\n",
        Then::hold, Result::ok, 200, 5, true}},
      {"/chunk_extension_quoted",
       {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"x;y\"\r\nhello\r\n0\r\n\r\n",
        Then::hold, Result::ok, 200, 5, true}},
      {"/chunk_extension_unbalanced",
       {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"x\r\nhello\r\n0\r\n\r\n",
        Then::hold, Result::bad_chunk, 200, 0, false}},
      {"/http10_chunked",
       {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: "
        "keep-alive\r\n\r\n1\r\nq\r\n0\r\n\r\n",
        Then::hold, Result::ok, 200, 1, false}},
  };
  return c;
}

// Counts close() calls: a connection the engine keeps for reuse is not closed.
class CountingSys : public SysCalls {
 public:
  SysResult close(int fd) override {
    ++closes;
    return SysCalls::close(fd);
  }
  int closes = 0;
};

class ParserPolicies : public ::testing::TestWithParam<std::string> {};

TEST_P(ParserPolicies, EachShapeEndsAsThePolicySays) {
  test::RawServer server([](const std::string& path) {
    const auto it = cases().find(path);
    return it == cases().end() ? test::RawReply{"HTTP/1.1 404 X\r\n\r\n"}
                               : test::RawReply{it->second.bytes, it->second.then};
  });
  for (const auto& [path, c] : cases()) {
    SCOPED_TRACE(path);
    CountingSys sys;
    MultiOptions opt;
    opt.sys = &sys;
    test::LoopDriver driver(opt, GetParam());
    TransferSpec spec;
    spec.url = server.url(path);
    spec.total_timeout_ms = 10000;
    ASSERT_TRUE(driver.multi().add(spec));
    ASSERT_TRUE(driver.run(std::chrono::seconds(15)));
    ASSERT_EQ(driver.done.size(), 1u);
    const Done& d = driver.done[0];
    EXPECT_EQ(result_name(d.result), std::string(result_name(c.result)));
    EXPECT_EQ(d.http_status, c.status);
    if (c.result == Result::ok) {
      EXPECT_EQ(d.body_bytes, c.body_bytes);
    }
    EXPECT_EQ(sys.closes == 0, c.kept) << "closes: " << sys.closes;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ParserPolicies, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
