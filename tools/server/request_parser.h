// The built-in server's HTTP/1.1 request parser: incremental (bytes may arrive split
// anywhere), reading requests as RFC 9112 asks of a server, so that the bytes of one request
// are never run as another. What it cannot frame it refuses with the status to answer, and
// the server then closes the connection:
//
// | input                                              | verdict                      | RFC 9112 |
// |----------------------------------------------------|------------------------------|----------|
// | request line "METHOD SP target SP HTTP/1.x"        | parsed; empty lines before it are skipped
// | §3, §2.2 | | a method that is not a token, a bad target or more | 400 | §3 | |   than one SP, a
// version other than HTTP/1.0/1.1   | 400 (505 for HTTP/2+ and 0.9) | §2.3 | | request line over 8
// KiB                            | 414                          | §3 | | field line: name not a
// token, space before colon,  | 400                          | §5.1, §5.2 (obs-fold: reject) | |
// obs-fold, NUL/CR/LF in a value                   |                              |  | | request
// head over 64 KiB                           | 431                          | RFC 6585 §5 | |
// HTTP/1.1 without Host, or several Host fields      | 400                          | §3.2 | |
// Content-Length invalid, or several that differ     | 400                          | §6.3 (5) | |
// Content-Length over the body limit                 | 413 (the body is not read)   | RFC 9110
// §15.5.14 | | Transfer-Encoding with a Content-Length            | 400                          |
// §6.3 (3): an attempt at smuggling | | Transfer-Encoding other than a single chunked      | 501
// (chunked not last: 400)  | §6.1, §6.3 (4) | | Transfer-Encoding in an HTTP/1.0 request | 400 |
// §6.1 | | chunked body: bad size or extension, missing CRLF  | 400                          | §7.1
// | | bare LF line ends                                  | accepted                     | §2.2 |
//
// Bodies are counted and discarded as they arrive: a request body of any size costs no memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace msb::server {

struct Request {
  std::string method;
  std::string target;
  bool http11 = true;
  bool keep_alive = true;  // HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive"
  bool expect_continue = false;
  std::uint64_t body_bytes = 0;  // consumed so far
};

class RequestParser {
 public:
  enum class Status : std::uint8_t { more, head, done, error };
  static constexpr std::size_t kMaxRequestLine = 8 * 1024;
  static constexpr std::size_t kMaxHead = 64 * 1024;

  explicit RequestParser(std::uint64_t max_body = std::uint64_t{1} << 40) : max_body_(max_body) {}

  // Parses up to `len` bytes; *consumed says how many were used. Returns `head` once the
  // request head is complete (request() is then valid and the body follows), `done` when
  // the whole request is read (consumed stops there: the rest is the next request), `error`
  // with error_status() to answer, or `more`.
  Status feed(const char* data, std::size_t len, std::size_t* consumed);
  // Ready for the next request on the connection.
  void reset();

  const Request& request() const { return request_; }
  bool complete() const { return state_ == State::done; }
  int error_status() const { return error_status_; }
  const char* error_reason() const { return error_reason_; }
  bool in_body() const;

 private:
  enum class State : std::uint8_t {
    request_line,
    headers,
    body_length,
    chunk_size,
    chunk_data,
    chunk_data_end,
    trailers,
    done,
    error
  };
  Status fail(int status, const char* reason);
  Status on_line(std::string_view line);
  Status on_request_line(std::string_view line);
  Status on_header_line(std::string_view line);
  Status on_head_end();
  Status on_chunk_size(std::string_view line);

  std::uint64_t max_body_;
  State state_ = State::request_line;
  Request request_;
  std::string line_;
  std::size_t head_bytes_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint64_t content_length_ = 0;
  bool has_length_ = false;
  bool chunked_ = false;
  bool bad_coding_ = false;
  bool chunked_not_last_ = false;
  int hosts_ = 0;
  bool conn_close_ = false;
  bool conn_keep_alive_ = false;
  int error_status_ = 0;
  const char* error_reason_ = "";
};

}  // namespace msb::server
