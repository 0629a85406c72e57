// The response parser against a table of valid and invalid responses. Each vector is fed
// whole, one byte at a time, and split in two at every offset: the outcome must not depend
// on how the bytes arrive.
#include "http1/http1_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace msb::detail {
namespace {

// Literals with a NUL inside keep their full length ("...\0..."s).
using namespace std::string_literals;

struct Vector {
  const char* name;
  std::string bytes;
  bool eof_after;  // the peer closes after the bytes
  Result result;
  int status;
  std::string body;
  bool keep_alive;
  bool head = false;
};

struct Outcome {
  Result result = Result::ok;
  bool finished = false;
  int status = 0;
  std::string body;
  bool keep_alive = false;
  bool operator==(const Outcome&) const = default;
};

// Feeds `pieces` in order, then EOF if asked.
Outcome run(const Vector& v, const std::vector<std::string>& pieces) {
  Http1Parser p;
  p.reset(v.head);
  Outcome o;
  BodySink sink{
      [](void* ctx, const char* d, std::size_t n) { static_cast<std::string*>(ctx)->append(d, n); },
      &o.body};
  Http1Parser::Status st = Http1Parser::Status::more;
  for (const auto& piece : pieces) {
    std::size_t used = 0;
    st = p.feed(piece.data(), piece.size(), &used, sink);
    if (st != Http1Parser::Status::more) break;
    EXPECT_EQ(used, piece.size());
  }
  if (st == Http1Parser::Status::more && v.eof_after) st = p.eof();
  o.finished = st != Http1Parser::Status::more;
  o.result = st == Http1Parser::Status::error ? p.error() : Result::ok;
  o.status = p.status();
  o.keep_alive = st == Http1Parser::Status::done && p.keep_alive();
  if (st == Http1Parser::Status::done) {
    EXPECT_EQ(p.body_bytes(), o.body.size());
  }
  return o;
}

std::string big(std::size_t n, char c) {
  return std::string(n, c);
}

const std::vector<Vector>& vectors() {
  static const std::vector<Vector> v = {
      // --- valid
      {"content_length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, Result::ok,
       200, "hello", true},
      {"zero_length", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, Result::ok, 200, "",
       true},
      {"no_reason_phrase", "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx", false, Result::ok, 200,
       "x", true},
      {"bare_lf", "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", false, Result::ok, 200, "hi", true},
      {"chunked",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n"
       "0\r\nX-Trailer: t\r\n\r\n",
       false, Result::ok, 200, "hello world", true},
      {"chunked_uppercase_hex",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n"
       "0123456789\r\n0\r\n\r\n",
       false, Result::ok, 200, "0123456789", true},
      {"close_delimited", "HTTP/1.1 200 OK\r\n\r\nuntil close", true, Result::ok, 200,
       "until close", false},
      {"http10_closes", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, Result::ok, 200,
       "ok", false},
      {"http10_keep_alive",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", false,
       Result::ok, 200, "ok", true},
      {"connection_close", "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 2\r\n\r\nok",
       false, Result::ok, 200, "ok", false},
      {"continue_then_final",
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz", false,
       Result::ok, 200, "z", true},
      {"no_content_204", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", false, Result::ok,
       204, "", true},
      {"not_modified_304", "HTTP/1.1 304 Not Modified\r\n\r\n", false, Result::ok, 304, "", true},
      {"head_ignores_length", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", false, Result::ok,
       200, "", true, true},
      {"duplicate_equal_lengths",
       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", false, Result::ok,
       200, "abc", true},
      {"te_overrides_length",
       "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n"
       "\r\n1\r\nq\r\n0\r\n\r\n",
       false, Result::ok, 200, "q", false},
      // --- policies (see the table in http1_parser.h)
      {"status_999_reads_its_body", "HTTP/1.1 999 Odd\r\nContent-Length: 3\r\n\r\nabc", false,
       Result::ok, 999, "abc", true},
      {"status_600_reads_its_body", "HTTP/1.1 600 X\r\nContent-Length: 2\r\n\r\nhi", false,
       Result::ok, 600, "hi", true},
      {"obs_fold_unfolded", "HTTP/1.1 200 OK\r\nX-A: b\r\n  folded\r\nContent-Length: 2\r\n\r\nok",
       false, Result::ok, 200, "ok", true},
      {"obs_fold_continues_a_length_list", "HTTP/1.1 200 OK\r\nContent-Length: 2,\r\n 2\r\n\r\nok",
       false, Result::ok, 200, "ok", true},
      {"obs_fold_into_transfer_encoding",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\tchunked\r\n\r\n1\r\nq\r\n0\r\n\r\n", false,
       Result::ok, 200, "q", true},
      {"obs_fold_into_connection_close",
       "HTTP/1.1 200 OK\r\nConnection:\r\n close\r\nContent-Length: 1\r\n\r\nz", false, Result::ok,
       200, "z", false},
      {"obs_fold_bare_lf", "HTTP/1.1 200 OK\nX-A: b\n c\nContent-Length: 1\n\nz", false, Result::ok,
       200, "z", true},
      {"empty_lines_after_continue",
       "HTTP/1.1 100 Continue\r\n\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nk", false,
       Result::ok, 200, "k", true},
      {"early_hints_then_final",
       "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: "
       "1\r\n\r\nk",
       false, Result::ok, 200, "k", true},
      {"transfer_encoding_any_case",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n1\r\nq\r\n0\r\n\r\n", false,
       Result::ok, 200, "q", true},
      {"http10_chunked_is_not_reused",
       "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
       "1\r\nq\r\n0\r\n\r\n",
       false, Result::ok, 200, "q", false},
      {"control_chars_kept_in_other_fields",
       "HTTP/1.1 200 OK\r\nX-A: a\x01b\x7f\x1f\r\nContent-Length: 1\r\n\r\nz", false, Result::ok,
       200, "z", true},
      {"chunk_size_16_digits_with_leading_zeros",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000005\r\nhello\r\n"
       "000000000000000000000000\r\n\r\n",
       false, Result::ok, 200, "hello", true},
      {"content_length_with_leading_zeros",
       "HTTP/1.1 200 OK\r\nContent-Length: 0000000000000000000000005\r\n\r\nhello", false,
       Result::ok, 200, "hello", true},
      {"content_length_largest",
       "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nab", true,
       Result::partial_body, 200, "ab", false},
      {"chunk_size_largest",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0ffffffffffffffff\r\nab", true,
       Result::partial_body, 200, "ab", false},
      {"chunk_extensions_quoted_and_spaced",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 ; a = b ;c=\"x;\\\"y\" "
       ";d\r\nhello\r\n"
       "0;e\r\n\r\n",
       false, Result::ok, 200, "hello", true},
      {"trailer_fields_folded_and_ignored",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nq\r\n0\r\nX-T: a\r\n b\r\n\r\n",
       false, Result::ok, 200, "q", true},
      {"error_status_is_not_a_failure", "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n", false,
       Result::ok, 503, "", true},
      // --- invalid
      {"empty_reply", "", true, Result::empty_reply, 0, "", false},
      {"garbage_status", "GARBAGE\r\n\r\n", false, Result::bad_status_line, 0, "", false},
      // A TLS server asked for plain HTTP: its alert (handshake_failure) or its ServerHello,
      // then a close; or a record that happens to hold a newline byte.
      {"tls_alert_instead_of_status", "\x15\x03\x01\x00\x02\x02\x28"s, true,
       Result::tls_record_error, 0, "", false},
      {"tls_handshake_instead_of_status", "\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03"s, true,
       Result::tls_record_error, 0, "", false},
      {"tls_record_with_a_newline", "\x16\x03\x03\x00\x0a\x02\x00\x00\x06\x03\x03\n"s, false,
       Result::tls_record_error, 0, "", false},
      {"http2_status", "HTTP/2 200\r\n\r\n", false, Result::bad_status_line, 0, "", false},
      {"two_digit_status", "HTTP/1.1 20 OK\r\n\r\n", false, Result::bad_status_line, 0, "", false},
      {"status_099", "HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n", false, Result::bad_status_line,
       0, "", false},
      {"empty_line_before_the_first_status", "\r\nHTTP/1.1 200 OK\r\n\r\n", false,
       Result::bad_status_line, 0, "", false},
      {"status_junk_after_code", "HTTP/1.1 200OK\r\n\r\n", false, Result::bad_status_line, 0, "",
       false},
      {"nul_in_status", "HTTP/1.1 200 O\0K\r\n\r\n"s, false, Result::bad_status_line, 0, "", false},
      {"nul_in_header", "HTTP/1.1 200 OK\r\nX-A: b\0c\r\n\r\n"s, false, Result::bad_header, 200, "",
       false},
      // Longer than 16 bytes: checked with memchr rather than the short strings' loop.
      {"nul_in_a_long_status_reason", "HTTP/1.1 200 A reason longer than sixteen\0\r\n\r\n"s, false,
       Result::bad_status_line, 0, "", false},
      {"cr_in_a_long_value", "HTTP/1.1 200 OK\r\nX-A: a value longer than 16\rb\r\n\r\n", false,
       Result::bad_header, 200, "", false},
      {"nul_in_a_fold_of_a_pending_length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n \0\r\n\r\nx"s,
       false, Result::bad_header, 200, "", false},
      // The length is whole once the next line starts without a fold: its own verdict comes
      // first, whether that line arrived with it or later.
      {"bad_length_before_a_nul_line", "HTTP/1.1 200 OK\r\nContent-Length: x\r\nX-A: \0\r\n\r\n"s,
       false, Result::bad_content_length, 200, "", false},
      // The pending length is judged when the next line starts, not when it ends (which here
      // it never does): the same verdict split or whole (found by fuzz_http1_parser).
      {"bad_length_then_an_unfinished_line",
       "HTTP/1.1 200 OK\r\nContent-Length: \nConLt-x: \xff\xff\xff"s, false,
       Result::bad_content_length, 200, "", false},
      {"header_without_colon", "HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n", false, Result::bad_header,
       200, "", false},
      {"space_before_colon", "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", false,
       Result::bad_header, 200, "", false},
      {"fold_right_after_the_status_line",
       "HTTP/1.1 200 OK\r\n X-A: b\r\nContent-Length: 0\r\n\r\n", false, Result::bad_header, 200,
       "", false},
      {"obs_fold_splits_a_length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 2\r\n\r\n", false,
       Result::bad_content_length, 200, "", false},
      {"bare_cr_in_a_field", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n", false,
       Result::bad_header, 200, "", false},
      {"control_char_in_content_length", "HTTP/1.1 200 OK\r\nContent-Length: 1\x01\r\n\r\nz", false,
       Result::bad_content_length, 200, "", false},
      {"content_length_past_64_bits",
       "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", false,
       Result::bad_content_length, 200, "", false},
      {"coding_gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", true,
       Result::unsupported_coding, 200, "", false},
      {"coding_chunked_not_last",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, another\r\n\r\nzz", true,
       Result::unsupported_coding, 200, "", false},
      {"coding_gzip_then_chunked",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nzz\r\n0\r\n\r\n", false,
       Result::unsupported_coding, 200, "", false},
      {"coding_chunked_twice",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       false, Result::unsupported_coding, 200, "", false},
      {"coding_identity",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 1\r\n\r\nz", false,
       Result::unsupported_coding, 200, "", false},
      {"chunk_size_past_64_bits",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n010000000000000000\r\n", false,
       Result::bad_chunk, 200, "", false},
      {"chunk_extension_unbalanced_quote",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\r\nhello\r\n0\r\n\r\n", false,
       Result::bad_chunk, 200, "", false},
      {"chunk_extension_without_a_name",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;=b\r\nhello\r\n0\r\n\r\n", false,
       Result::bad_chunk, 200, "", false},
      {"chunk_extension_junk",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n", false,
       Result::bad_chunk, 200, "", false},
      {"trailers_starting_with_a_fold",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n b\r\n\r\n", false,
       Result::bad_chunk, 200, "", false},
      {"conflicting_lengths",
       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", false,
       Result::bad_content_length, 200, "", false},
      {"conflicting_length_list", "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabc", false,
       Result::bad_content_length, 200, "", false},
      {"negative_length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false,
       Result::bad_content_length, 200, "", false},
      {"huge_length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", false,
       Result::bad_content_length, 200, "", false},
      {"bad_chunk_size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false,
       Result::bad_chunk, 200, "", false},
      {"chunk_size_overflow",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", false,
       Result::bad_chunk, 200, "", false},
      {"chunk_missing_crlf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naX\r\n",
       false, Result::bad_chunk, 200, "a", false},
      {"oversized_headers", "HTTP/1.1 200 OK\r\nX-Big: " + big(70000, 'a') + "\r\n\r\n", false,
       Result::headers_too_large, 200, "", false},
      {"endless_header_line", "HTTP/1.1 200 OK\r\nX: " + big(70000, 'b'), false,
       Result::headers_too_large, 200, "", false},
      {"switching_protocols", "HTTP/1.1 101 Switching\r\n\r\n", false, Result::bad_response, 101,
       "", false},
      {"closed_in_status_line", "HTTP/1.1 20", true, Result::partial_headers, 0, "", false},
      {"closed_in_headers", "HTTP/1.1 200 OK\r\nContent-Len", true, Result::partial_headers, 200,
       "", false},
      {"closed_in_body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true,
       Result::partial_body, 200, "abc", false},
      {"closed_in_chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", true,
       Result::partial_body, 200, "ab", false},
      {"closed_before_last_chunk",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", true,
       Result::partial_body, 200, "ab", false},
  };
  return v;
}

void PrintTo(const Vector& v, std::ostream* os) {
  *os << v.name;
}

class ParserVectors : public ::testing::TestWithParam<Vector> {};

TEST_P(ParserVectors, SameOutcomeHoweverTheBytesArrive) {
  const Vector& v = GetParam();
  const Outcome whole = run(v, {v.bytes});
  EXPECT_TRUE(whole.finished) << "the vector must end in done or an error";
  EXPECT_EQ(result_name(whole.result), std::string(result_name(v.result)));
  if (v.result == Result::ok) {
    EXPECT_EQ(whole.status, v.status);
    EXPECT_EQ(whole.body, v.body);
    EXPECT_EQ(whole.keep_alive, v.keep_alive);
  } else {
    EXPECT_TRUE(whole.body.empty() || v.body.rfind(whole.body, 0) == 0);
  }

  std::vector<std::string> bytes;
  for (char c : v.bytes) bytes.emplace_back(1, c);
  const Outcome single = run(v, bytes);
  EXPECT_EQ(single.result, whole.result) << "byte by byte";
  EXPECT_EQ(single.body, whole.body) << "byte by byte";

  // Every two-way split (a sample of them for the large vectors).
  const std::size_t stride = v.bytes.size() > 2000 ? 997 : 1;
  for (std::size_t cut = 0; cut <= v.bytes.size(); cut += stride) {
    const Outcome split = run(v, {v.bytes.substr(0, cut), v.bytes.substr(cut)});
    ASSERT_EQ(split, whole) << "split at " << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ParserVectors, ::testing::ValuesIn(vectors()),
                         [](const ::testing::TestParamInfo<Vector>& info) {
                           return std::string(info.param.name);
                         });

TEST(Http1Parser, ReportsBytesBeyondTheResponse) {
  Http1Parser p;
  p.reset(false);
  const std::string two = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n";
  std::size_t used = 0;
  EXPECT_EQ(p.feed(two.data(), two.size(), &used, {}), Http1Parser::Status::done);
  EXPECT_EQ(used, two.find('x') + 1);
}

TEST(Http1Parser, TooManyInformationalResponses) {
  Http1Parser p;
  p.reset(false);
  std::string s;
  for (int i = 0; i <= Http1Parser::kMaxInformational; ++i) s += "HTTP/1.1 100 Continue\r\n\r\n";
  std::size_t used = 0;
  EXPECT_EQ(p.feed(s.data(), s.size(), &used, {}), Http1Parser::Status::error);
  EXPECT_EQ(p.error(), Result::bad_response);
}

}  // namespace
}  // namespace msb::detail
