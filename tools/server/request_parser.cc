#include "request_parser.h"

#include <algorithm>
#include <cstring>

#include "msb/http_syntax.h"

namespace msb::server {

namespace {

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

template <typename Fn>
void for_each_token(std::string_view value, Fn fn) {
  while (true) {
    const auto comma = value.find(',');
    fn(trim(value.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

bool parse_decimal(std::string_view s, std::uint64_t* out) {
  if (s.empty()) return false;
  std::uint64_t n = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (!is_digit(c)) return false;
    const unsigned d = c - '0';
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  *out = n;
  return true;
}

int hex_value(unsigned char c) {
  if (is_digit(c)) return c - '0';
  const unsigned char l = lower(c);
  return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
}

// A request target: origin-form ("/..."), absolute-form, authority-form or "*"; visible
// ASCII only (RFC 9112 §3.2).
bool valid_target(std::string_view t) {
  if (t.empty()) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

}  // namespace

void RequestParser::reset() {
  state_ = State::request_line;
  request_ = Request{};
  line_.clear();
  head_bytes_ = 0;
  remaining_ = content_length_ = 0;
  has_length_ = chunked_ = bad_coding_ = chunked_not_last_ = conn_close_ = conn_keep_alive_ = false;
  hosts_ = 0;
  error_status_ = 0;
  error_reason_ = "";
}

bool RequestParser::in_body() const {
  return state_ == State::body_length || state_ == State::chunk_size ||
         state_ == State::chunk_data || state_ == State::chunk_data_end ||
         state_ == State::trailers;
}

RequestParser::Status RequestParser::fail(int status, const char* reason) {
  state_ = State::error;
  error_status_ = status;
  error_reason_ = reason;
  std::string().swap(line_);
  return Status::error;
}

RequestParser::Status RequestParser::feed(const char* data, std::size_t len,
                                          std::size_t* consumed) {
  std::size_t pos = 0;
  Status st = Status::more;
  while (pos < len && st == Status::more) {
    switch (state_) {
      case State::body_length:
      case State::chunk_data: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, len - pos));
        request_.body_bytes += n;
        remaining_ -= n;
        pos += n;
        if (remaining_ == 0) {
          state_ = state_ == State::body_length ? State::done : State::chunk_data_end;
          if (state_ == State::done) st = Status::done;
        }
        continue;
      }
      case State::done:
        st = Status::done;
        continue;
      case State::error:
        st = Status::error;
        continue;
      default:
        break;
    }
    // A line: the request line, a field, a chunk size or end, a trailer.
    const void* nl = std::memchr(data + pos, '\n', len - pos);
    const std::size_t end =
        nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data) : len;
    const std::size_t take = end - pos + (nl ? 1 : 0);
    const bool in_head = state_ == State::request_line || state_ == State::headers;
    if (in_head || state_ == State::trailers) head_bytes_ += take;
    if (state_ == State::request_line && line_.size() + take > kMaxRequestLine) {
      pos += take;
      st = fail(414, "request line too long");
      break;
    }
    if (head_bytes_ > kMaxHead) {
      pos += take;
      st = fail(431, "request head too large");
      break;
    }
    if (!in_head && state_ != State::trailers && line_.size() + take > 1024) {
      pos += take;
      st = fail(400, "chunk size line too long");
      break;
    }
    line_.append(data + pos, end - pos);
    pos += take;
    if (!nl) break;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    st = on_line(line_);
    line_.clear();
  }
  *consumed = pos;
  return st;
}

RequestParser::Status RequestParser::on_line(std::string_view line) {
  switch (state_) {
    case State::request_line:
      return on_request_line(line);
    case State::headers:
      return on_header_line(line);
    case State::chunk_size:
      return on_chunk_size(line);
    case State::chunk_data_end:
      if (!line.empty()) return fail(400, "chunk data not followed by CRLF");
      state_ = State::chunk_size;
      return Status::more;
    case State::trailers:
      if (line.empty()) {
        state_ = State::done;
        return Status::done;
      }
      if (line.find('\0') != std::string_view::npos || line.find('\r') != std::string_view::npos ||
          line.find(':') == std::string_view::npos) {
        return fail(400, "bad trailer field");
      }
      return Status::more;
    default:
      return fail(400, "bad request");
  }
}

RequestParser::Status RequestParser::on_request_line(std::string_view line) {
  if (line.empty()) return Status::more;  // RFC 9112 §2.2: empty lines before a request
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(400, "malformed request line");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return fail(400, "method is not a token");
  if (!valid_target(target)) return fail(400, "bad request target");
  if (version == "HTTP/1.1") {
    request_.http11 = true;
  } else if (version == "HTTP/1.0") {
    request_.http11 = false;
  } else if (version.size() == 8 && version.compare(0, 5, "HTTP/") == 0 && is_digit(version[5]) &&
             version[6] == '.' && is_digit(version[7])) {
    return fail(505, "HTTP version not supported");
  } else {
    return fail(400, "bad HTTP version");
  }
  request_.method.assign(method);
  request_.target.assign(target);
  state_ = State::headers;
  return Status::more;
}

RequestParser::Status RequestParser::on_header_line(std::string_view line) {
  if (line.empty()) return on_head_end();
  if (is_ows(line.front())) return fail(400, "obs-fold in a request");
  if (line.find('\0') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
    return fail(400, "NUL or CR in a field");
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
    return fail(400, "malformed field line");
  }
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim(line.substr(colon + 1));
  if (iequals(name, "host")) {
    ++hosts_;
  } else if (iequals(name, "content-length")) {
    bool ok = true;
    for_each_token(value, [&](std::string_view tok) {
      std::uint64_t n = 0;
      if (!parse_decimal(tok, &n) || (has_length_ && n != content_length_)) ok = false;
      has_length_ = true;
      content_length_ = n;
    });
    if (!ok) return fail(400, "invalid or conflicting Content-Length");
  } else if (iequals(name, "transfer-encoding")) {
    for_each_token(value, [&](std::string_view tok) {
      if (tok.empty()) return;
      if (chunked_) chunked_not_last_ = true;  // anything after chunked
      if (iequals(tok, "chunked") && !chunked_) {
        chunked_ = true;
      } else if (!iequals(tok, "chunked")) {
        bad_coding_ = true;
      }
    });
  } else if (iequals(name, "connection")) {
    for_each_token(value, [&](std::string_view tok) {
      if (iequals(tok, "close")) conn_close_ = true;
      if (iequals(tok, "keep-alive")) conn_keep_alive_ = true;
    });
  } else if (iequals(name, "expect")) {
    request_.expect_continue = iequals(value, "100-continue");
  }
  return Status::more;
}

RequestParser::Status RequestParser::on_head_end() {
  Request& r = request_;
  r.keep_alive = r.http11 ? !conn_close_ : (conn_keep_alive_ && !conn_close_);
  if (r.http11 && hosts_ != 1) return fail(400, hosts_ ? "several Host fields" : "no Host field");
  if (!r.http11 && hosts_ > 1) return fail(400, "several Host fields");
  const bool te = chunked_ || bad_coding_;
  if (te && !r.http11) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
  if (te && has_length_) return fail(400, "Transfer-Encoding with Content-Length");
  if (chunked_not_last_) return fail(400, "chunked is not the last transfer coding");
  if (bad_coding_) return fail(501, "transfer coding not implemented");
  if (has_length_ && content_length_ > max_body_) return fail(413, "request body too large");
  std::string().swap(line_);
  if (chunked_) {
    state_ = State::chunk_size;
  } else if (has_length_ && content_length_ > 0) {
    remaining_ = content_length_;
    state_ = State::body_length;
  } else {
    state_ = State::done;
  }
  return Status::head;
}

RequestParser::Status RequestParser::on_chunk_size(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] == '0') ++i;
  const std::size_t first = i;
  std::uint64_t size = 0;
  while (i < line.size() && hex_value(static_cast<unsigned char>(line[i])) >= 0) {
    if (i - first >= 16) return fail(400, "chunk size past 64 bits");
    size = size * 16 + static_cast<unsigned>(hex_value(static_cast<unsigned char>(line[i])));
    ++i;
  }
  if (i == 0) return fail(400, "bad chunk size");
  // Extensions are ignored, but their bytes must be what an extension can hold.
  for (std::size_t k = i; k < line.size(); ++k) {
    const auto c = static_cast<unsigned char>(line[k]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return fail(400, "bad chunk extension");
  }
  if (i < line.size() && !is_ows(line[i]) && line[i] != ';') return fail(400, "bad chunk size");
  if (request_.body_bytes + size > max_body_) return fail(413, "request body too large");
  if (size == 0) {
    state_ = State::trailers;
  } else {
    remaining_ = size;
    state_ = State::chunk_data;
  }
  return Status::more;
}

}  // namespace msb::server
