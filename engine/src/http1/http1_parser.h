// Incremental HTTP/1.1 response parser.
//
// Bytes may arrive split anywhere (one at a time included); the parser keeps only the
// unfinished line, so an idle connection costs no buffer. Body bytes are handed on as they
// arrive, de-chunked. Every way a response can be malformed ends in one precise Result.
// Lenient where curl is (bare LF line ends), strict where leniency enables smuggling
// (conflicting Content-Length, obs-fold, NUL bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

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
  Status feed(const char* data, std::size_t len, std::size_t* consumed, BodySink sink);
  // The peer closed the connection: done for a close-delimited body, else an error.
  Status eof();

  Result error() const { return error_; }
  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  bool started() const { return header_bytes_ > 0; }
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
  Status fail(Result r);
  Status on_line(const std::string& line);
  Status on_status_line(const std::string& line);
  Status on_header_line(const std::string& line);
  Status on_headers_end();
  Status on_chunk_size(const std::string& line);
  void begin_response();

  State state_ = State::status_line;
  Result error_ = Result::ok;
  bool head_request_ = false;
  bool http11_ = true;
  bool chunked_ = false;
  bool other_coding_ = false;  // a Transfer-Encoding whose last coding is not chunked
  bool has_length_ = false;
  bool conn_close_ = false;
  bool conn_keep_alive_ = false;
  bool keep_alive_ = false;
  int status_ = 0;
  int informational_ = 0;
  std::uint64_t content_length_ = 0;
  std::uint64_t remaining_ = 0;  // body or chunk bytes still to come
  std::uint64_t header_bytes_ = 0;
  std::uint64_t body_bytes_ = 0;
  std::string line_;  // the unfinished line
};

}  // namespace msb::detail
