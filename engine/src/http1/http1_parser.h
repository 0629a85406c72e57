// Incremental HTTP/1.1 response parser.
//
// Bytes may arrive split anywhere (one at a time included); the parser keeps only the
// unfinished line (and, while a framing field may still be folded, that field), so an idle
// connection costs no buffer. Body bytes are handed on as they arrive, de-chunked. Every way
// a response can be malformed ends in one precise Result.
//
// clang-format off
// Policies, as RFC 9110/9112 ask of a client (tested shape by shape in
// engine/tests/http1_parser_test.cc, and end to end in tests/parser_policies_test.cc).
// Each entry: input -> verdict (why).
//
// Status line
// - HTTP/1.0 or 1.1, any 3 digits -> that status (9112 §4)
// - 100-199 but 101 -> interim: skipped, the final one follows (9110 §15.2)
// - 101 -> bad_response: we never ask to switch (9110 §15.2.2)
// - 600-999 -> final, framed as usual, counted as 5xx (9110 §15: invalid codes are processed
//   as 5xx; curl and llhttp report them)
// - 000-099 -> bad_status_line (no class at all, and 0 means "none" in a Done: kept strict)
// - other versions, 2 or 4 digits, junk after it -> bad_status_line (9112 §4)
// - NUL or CR in it -> bad_status_line (9110 §5.5)
// - a TLS record (alert 0x15, handshake 0x16) where it starts -> tls_record_error (a TLS
//   server on a port asked for plain HTTP; no status line starts with those bytes)
// - empty lines after a 1xx, before the next one -> skipped (an empty line cannot start a
//   status line: no ambiguity; llhttp does too)
//
// Fields
// - obs-fold (SP/HTAB-led line inside a header) -> unfolded into the field with SP (9112 §5.2:
//   a user agent MUST replace obs-fold with SP; curl does)
// - SP/HTAB-led line right after the status line -> bad_header (9112 §2.2: reject or ignore;
//   we reject)
// - NUL or bare CR in a field line -> bad_header (9110 §5.5: reject or replace; we reject)
// - other CTLs (0x01-0x1f but HTAB, 0x7f) in a field value -> kept in fields we do not
//   interpret; make Content-Length/Transfer-Encoding invalid (9110 §5.5 allows retaining
//   them; a framing value with one is simply invalid)
// - name not a token, space before the colon -> bad_header (9112 §5.1: MUST reject)
//
// Framing
// - Content-Length: digits (leading zeros fine), or a list of equal values -> that length; a
//   value past 2^64-1, unequal values or other bytes: bad_content_length (9110 §8.6,
//   9112 §6.3 (5))
// - Transfer-Encoding: exactly "chunked", with a Content-Length too -> chunked (overrides
//   Content-Length, and the connection is not reused) (9112 §6.1, §6.3 (3))
// - any other transfer coding ("gzip", "chunked, gzip", "chunked, chunked", "identity") ->
//   unsupported_coding at once, connection closed; curl: "unrecognized transfer encoding"
//   (we send no TE, so only chunked may be used, 9112 §7.4; the bytes could not be decoded)
// - Transfer-Encoding in an HTTP/1.0 response -> decoded, connection closed after it
//   (9112 §6.1: framing faulty, close after)
// - chunk size: hex, any leading zeros -> that size if it fits 64 bits, else bad_chunk
//   (9112 §7.1)
// - chunk extensions ;name[=token|"quoted"] -> ignored; malformed (unbalanced quote, bad
//   name): bad_chunk (9112 §7.1.1)
// - trailer fields -> read and ignored; a line without a colon or with NUL: bad_chunk
//   (9112 §7.1.2)
// - bare LF line ends -> accepted (9112 §2.2 allows it; curl does)
// - a 204 or 304, or any response to HEAD -> no body, whatever the headers say (9110 §6.4.1)
// - no length, no chunked -> body until close; connection not reused (9112 §6.3 (8))
// clang-format on
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "msb/result.h"

namespace msb::detail {

struct BodySink {
  void (*fn)(void* ctx, const char* data, std::size_t len) = nullptr;
  void* ctx = nullptr;
};

class Http1Parser {
 public:
  enum class Status : std::uint8_t { more, done, error };
  static constexpr std::size_t kMaxHeaderBytes = 64 * 1024;  // status line + headers + trailers
  static constexpr int kMaxInformational = 16;               // 1xx responses before the final one

  // Prepares for a new response; a HEAD response has no body whatever its headers say.
  void reset(bool head_request);

  // Parses up to `len` bytes; *consumed tells how many were used (fewer than len only once
  // done or on error). Body bytes go to `sink`.
  Status feed(const char* data, std::size_t len, std::size_t* consumed, BodySink sink) {
    // A trickle's event, inline: bytes inside a body of known length that they do not finish.
    // feed_any() does the same after its per-state tests and a large function's prologue
    // (tools/lines-per-event.sh, per trickle event: 328 instructions and 40 code lines through
    // feed_any() alone, 304 and 38 with this test as its first branch, 259 and 32 here).
    if (state_ == State::body_length && len < remaining_) {
      take_body(data, len, sink);
      *consumed = len;
      return Status::more;
    }
    return feed_any(data, len, consumed, sink);
  }
  // The peer closed the connection: done for a close-delimited body, else an error.
  Status eof();

  Result error() const { return error_; }
  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  bool started() const { return header_bytes_ > 0; }
  bool complete() const { return state_ == State::done; }
  bool in_body() const;
  std::uint64_t header_bytes() const { return header_bytes_; }
  std::uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State : std::uint8_t {
    status_line,
    header_line,
    body_length,
    body_close,
    chunk_size,
    chunk_data,
    chunk_data_end,
    trailer_line,
    done,
    error
  };

  bool is_line_state() const;
  Status feed_any(const char* data, std::size_t len, std::size_t* consumed, BodySink sink);
  // n bytes of a body whose length is known (body_length, chunk_data): to the sink, counted.
  void take_body(const char* data, std::size_t n, BodySink sink) {
    if (sink.fn) sink.fn(sink.ctx, data, n);
    body_bytes_ += n;
    remaining_ -= n;
  }
  Status fail(Result r);
  // `unfolded`: the next byte is here and starts no obs-fold.
  Status on_line(std::string_view line, bool unfolded);
  Status on_status_line(std::string_view line);
  Status on_header_line(std::string_view line, bool unfolded);
  // The pending framing field (all of line_), now known to be whole.
  Status take_pending();
  // A whole (unfolded) framing field, its colon at `colon`.
  Status interpret_field(std::string_view line, std::size_t colon);
  Status on_headers_end();
  Status on_chunk_size(std::string_view line);
  Status on_trailer_line(std::string_view line);
  void begin_response();

  State state_ = State::status_line;
  Result error_ = Result::ok;
  bool head_request_ = false;
  bool http11_ = true;
  bool chunked_ = false;  // Transfer-Encoding: chunked (once)
  bool has_length_ = false;
  bool bad_coding_ = false;  // a transfer coding other than a single, final chunked
  bool conn_close_ = false;
  bool conn_keep_alive_ = false;
  bool keep_alive_ = false;
  bool seen_field_ = false;  // a field line came since the status line (obs-fold may follow)
  int status_ = 0;
  int informational_ = 0;
  std::uint64_t content_length_ = 0;
  std::uint64_t remaining_ = 0;  // body or chunk bytes still to come
  std::uint64_t header_bytes_ = 0;
  std::uint64_t body_bytes_ = 0;
  // The unfinished line. While a framing field (Content-Length, Transfer-Encoding,
  // Connection) may still be continued by an obs-fold (its line ended a read, or a fold
  // follows), its whole line stays at the front, pending_ bytes long, and a fold is read
  // after it; the next line's first byte, if not a fold, makes it whole (feed()). Lines that
  // arrive whole are never copied here.
  std::string line_;
  std::uint32_t pending_ = 0;
  std::uint8_t pending_framing_ = 0;  // which framing field is pending
};

}  // namespace msb::detail
