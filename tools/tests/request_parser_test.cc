// The built-in server's request parser against a table of requests, each fed whole, one
// byte at a time and split in two at every offset: the verdict must not depend on how the
// bytes arrive. Every policy in request_parser.h's table has a row here.
#include "request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace msb::server {
namespace {

// Literals with a NUL inside keep their full length ("...\0..."s).
using namespace std::string_literals;

struct Vector {
  const char* name;
  std::string bytes;
  int status;  // 0: every request parses; else the error status of the last one
  std::vector<std::string> targets = {};  // the requests read, in order
  std::uint64_t body = 0;                 // body bytes of the requests, in all
  bool keep_alive = true;                 // the last request's
};

struct Outcome {
  int status = 0;
  std::vector<std::string> targets;
  std::uint64_t body = 0;
  bool keep_alive = false;
  bool operator==(const Outcome&) const = default;
};

Outcome run(const std::vector<std::string>& pieces, std::uint64_t max_body) {
  RequestParser p(max_body);
  Outcome o;
  for (const std::string& piece : pieces) {
    std::size_t pos = 0;
    while (pos < piece.size() && o.status == 0) {
      std::size_t used = 0;
      const auto st = p.feed(piece.data() + pos, piece.size() - pos, &used);
      EXPECT_LE(used, piece.size() - pos);
      pos += used;
      if (st == RequestParser::Status::error) {
        o.status = p.error_status();
      } else if (p.complete()) {
        o.targets.push_back(p.request().target);
        o.body += p.request().body_bytes;
        o.keep_alive = p.request().keep_alive;
        p.reset();
      } else if (used == 0 && st == RequestParser::Status::more) {
        break;
      }
    }
  }
  return o;
}

const std::vector<Vector>& vectors() {
  static const std::vector<Vector> v = {
      {"get", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", 0, {"/a"}},
      {"bare_lf", "GET /a HTTP/1.1\nHost: x\n\n", 0, {"/a"}},
      {"empty_lines_first", "\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n", 0, {"/a"}},
      {"pipelined",
       "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
       0,
       {"/a", "/b"}},
      {"post_length",
       "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello worldGET /n "
       "HTTP/1.1\r\nHost: x\r\n\r\n",
       0,
       {"/p", "/n"},
       11},
      {"post_chunked",
       "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
       "chunked\r\n\r\n5;ext=\"q\"\r\nhello\r\n0006\r\n world\r\n"
       "0\r\nX-T: 1\r\n\r\nGET /n HTTP/1.1\r\nHost: x\r\n\r\n",
       0,
       {"/c", "/n"},
       11},
      {"http10_keep_alive",
       "GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
       0,
       {"/k"},
       0,
       true},
      {"http10_closes", "GET /k HTTP/1.0\r\n\r\n", 0, {"/k"}, 0, false},
      {"http11_close",
       "GET /k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
       0,
       {"/k"},
       0,
       false},
      {"equal_lengths",
       "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\nok",
       0,
       {"/p"},
       2},
      // Refused.
      {"method_not_token", "G(T /a HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"two_spaces", "GET  /a HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"target_with_ctl", "GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"no_version", "GET /a\r\nHost: x\r\n\r\n", 400},
      {"http2", "GET /a HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"http09", "GET /a HTTP/0.9\r\n\r\n", 505},
      {"no_host", "GET /a HTTP/1.1\r\n\r\n", 400},
      {"two_hosts", "GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
      {"space_before_colon", "GET /a HTTP/1.1\r\nHost : x\r\n\r\n", 400},
      {"obs_fold", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", 400},
      {"nul_in_field", "GET /a HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n"s, 400},
      {"bad_length", "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400},
      {"conflicting_lengths",
       "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"te_with_length",
       "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       400},
      {"te_in_http10", "POST /p HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"chunked_not_last",
       "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
      {"coding_gzip", "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"bad_chunk_size", "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       400},
      {"chunk_without_crlf",
       "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naX\r\n", 400},
      {"request_line_too_long", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",
       414},
      {"head_too_large", "GET /a HTTP/1.1\r\nHost: x\r\nX: " + std::string(70000, 'a') + "\r\n\r\n",
       431},
      {"body_too_large", "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413},
      {"chunked_too_large",
       "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1ffffff\r\n", 413},
      {"good_then_bad", "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 400, {"/a"}},
  };
  return v;
}

void PrintTo(const Vector& v, std::ostream* os) {
  *os << v.name;
}

class RequestVectors : public ::testing::TestWithParam<Vector> {};

TEST_P(RequestVectors, SameVerdictHoweverTheBytesArrive) {
  const Vector& v = GetParam();
  constexpr std::uint64_t kMaxBody = 1 << 20;
  const Outcome whole = run({v.bytes}, kMaxBody);
  EXPECT_EQ(whole.status, v.status);
  EXPECT_EQ(whole.targets, v.targets);
  EXPECT_EQ(whole.body, v.body);
  if (v.status == 0) {
    EXPECT_EQ(whole.keep_alive, v.keep_alive);
  }
  std::vector<std::string> bytes;
  for (char c : v.bytes) bytes.emplace_back(1, c);
  EXPECT_EQ(run(bytes, kMaxBody), whole) << "byte by byte";
  const std::size_t stride = v.bytes.size() > 2000 ? 997 : 1;
  for (std::size_t cut = 0; cut <= v.bytes.size(); cut += stride) {
    ASSERT_EQ(run({v.bytes.substr(0, cut), v.bytes.substr(cut)}, kMaxBody), whole)
        << "split at " << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, RequestVectors, ::testing::ValuesIn(vectors()),
                         [](const ::testing::TestParamInfo<Vector>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace msb::server
