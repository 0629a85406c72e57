#include "http1/http1_parser.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

namespace msb::detail {

namespace {

bool is_tchar(unsigned char c) {
  return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(token) for each comma-separated, trimmed token of a header value.
template <typename Fn>
void for_each_token(std::string_view value, Fn fn) {
  while (true) {
    const auto comma = value.find(',');
    fn(trim(value.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace

void Http1Parser::reset(bool head_request) {
  *this = Http1Parser();
  head_request_ = head_request;
}

void Http1Parser::begin_response() {
  http11_ = true;
  chunked_ = other_coding_ = has_length_ = conn_close_ = conn_keep_alive_ = false;
  content_length_ = 0;
  state_ = State::status_line;
}

bool Http1Parser::is_line_state() const {
  return state_ == State::status_line || state_ == State::header_line ||
         state_ == State::chunk_size || state_ == State::chunk_data_end ||
         state_ == State::trailer_line;
}

bool Http1Parser::in_body() const {
  return state_ == State::body_length || state_ == State::body_close ||
         state_ == State::chunk_size || state_ == State::chunk_data ||
         state_ == State::chunk_data_end || state_ == State::trailer_line;
}

Http1Parser::Status Http1Parser::fail(Result r) {
  state_ = State::error;
  error_ = r;
  std::string().swap(line_);
  return Status::error;
}

Http1Parser::Status Http1Parser::feed(const char* data, std::size_t len, std::size_t* consumed,
                                      BodySink sink) {
  std::size_t pos = 0;
  Status st = Status::more;
  while (pos < len && st == Status::more) {
    if (is_line_state()) {
      const bool in_headers = state_ == State::status_line || state_ == State::header_line ||
                              state_ == State::trailer_line;
      const void* nl = std::memchr(data + pos, '\n', len - pos);
      const std::size_t end =
          nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data) : len;
      const std::size_t take = end - pos + (nl ? 1 : 0);
      if (in_headers) {
        header_bytes_ += take;
        if (line_.size() + take > kMaxHeaderBytes || header_bytes_ > kMaxHeaderBytes) {
          pos += take;
          st = fail(Result::headers_too_large);
          break;
        }
      } else if (line_.size() + take > 1024) {
        // A chunk-size line or chunk end longer than this is not framing but garbage.
        pos += take;
        st = fail(Result::bad_chunk);
        break;
      }
      line_.append(data + pos, end - pos);
      pos += take;
      if (!nl) break;
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      st = on_line(line_);
      line_.clear();
      continue;
    }
    switch (state_) {
      case State::body_length:
      case State::chunk_data: {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, len - pos));
        if (sink.fn) sink.fn(sink.ctx, data + pos, n);
        body_bytes_ += n;
        remaining_ -= n;
        pos += n;
        if (remaining_ == 0) {
          if (state_ == State::body_length) {
            state_ = State::done;
            st = Status::done;
          } else {
            state_ = State::chunk_data_end;
          }
        }
        break;
      }
      case State::body_close: {
        if (sink.fn) sink.fn(sink.ctx, data + pos, len - pos);
        body_bytes_ += len - pos;
        pos = len;
        break;
      }
      default:  // done or error: not reached, the loop stops on them
        st = state_ == State::done ? Status::done : Status::error;
        break;
    }
  }
  if (state_ == State::done) {
    st = Status::done;
    std::string().swap(line_);
  }
  *consumed = pos;
  return st;
}

Http1Parser::Status Http1Parser::on_line(const std::string& line) {
  switch (state_) {
    case State::status_line:
      return on_status_line(line);
    case State::header_line:
      return on_header_line(line);
    case State::chunk_size:
      return on_chunk_size(line);
    case State::chunk_data_end:
      if (!line.empty()) return fail(Result::bad_chunk);
      state_ = State::chunk_size;
      return Status::more;
    case State::trailer_line:
      if (line.empty()) {
        state_ = State::done;
        return Status::done;
      }
      if (line.find('\0') != std::string::npos || line.find(':') == std::string::npos) {
        return fail(Result::bad_chunk);
      }
      return Status::more;
    default:
      return fail(Result::bad_response);
  }
}

Http1Parser::Status Http1Parser::on_status_line(const std::string& line) {
  // "HTTP/1.x SSS[ reason]"
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 ||
      (line[7] != '0' && line[7] != '1') || line[8] != ' ') {
    return fail(Result::bad_status_line);
  }
  for (int i = 9; i < 12; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(line[i]))) return fail(Result::bad_status_line);
  }
  if (line[9] < '1' || line[9] > '5') return fail(Result::bad_status_line);
  if (line.size() > 12 && line[12] != ' ') return fail(Result::bad_status_line);
  for (std::size_t i = 12; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == 0 || c == '\r') return fail(Result::bad_status_line);
  }
  http11_ = line[7] == '1';
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  state_ = State::header_line;
  return Status::more;
}

Http1Parser::Status Http1Parser::on_header_line(const std::string& line) {
  if (line.empty()) return on_headers_end();
  if (line.find('\0') != std::string::npos || line.find('\r') != std::string::npos) {
    return fail(Result::bad_header);
  }
  if (line.front() == ' ' || line.front() == '\t') return fail(Result::bad_header);  // obs-fold
  const auto colon = line.find(':');
  if (colon == std::string::npos || colon == 0) return fail(Result::bad_header);
  const std::string_view name(line.data(), colon);
  if (!std::all_of(name.begin(), name.end(),
                   [](char c) { return is_tchar(static_cast<unsigned char>(c)); })) {
    return fail(Result::bad_header);
  }
  const std::string_view value = trim(std::string_view(line).substr(colon + 1));

  if (iequals(name, "content-length")) {
    bool ok = true;
    for_each_token(value, [&](std::string_view tok) {
      if (tok.empty() || tok.size() > 18 || !std::all_of(tok.begin(), tok.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
          })) {
        ok = false;
        return;
      }
      std::uint64_t n = 0;
      for (char c : tok) n = n * 10 + static_cast<unsigned>(c - '0');
      if (has_length_ && n != content_length_) ok = false;
      has_length_ = true;
      content_length_ = n;
    });
    if (!ok) return fail(Result::bad_content_length);
  } else if (iequals(name, "transfer-encoding")) {
    std::string_view last;
    for_each_token(value, [&](std::string_view tok) {
      if (!tok.empty()) last = tok;
    });
    chunked_ = iequals(last, "chunked");
    other_coding_ = !chunked_;
  } else if (iequals(name, "connection")) {
    for_each_token(value, [&](std::string_view tok) {
      if (iequals(tok, "close")) conn_close_ = true;
      if (iequals(tok, "keep-alive")) conn_keep_alive_ = true;
    });
  }
  return Status::more;
}

Http1Parser::Status Http1Parser::on_headers_end() {
  if (status_ < 200) {
    // 101 would switch protocols, which this client never asks for.
    if (status_ == 101 || ++informational_ > kMaxInformational) {
      return fail(Result::bad_response);
    }
    begin_response();
    return Status::more;
  }
  keep_alive_ = http11_ ? !conn_close_ : (conn_keep_alive_ && !conn_close_);
  std::string().swap(line_);
  if (head_request_ || status_ == 204 || status_ == 304) {
    state_ = State::done;
    return Status::done;
  }
  if (chunked_ || other_coding_) {
    // A Transfer-Encoding overrides Content-Length; a message carrying both is a smuggling
    // attempt or a broken proxy, so the connection is not reused after it.
    if (has_length_) keep_alive_ = false;
    if (other_coding_) {
      keep_alive_ = false;
      state_ = State::body_close;
      return Status::more;
    }
    state_ = State::chunk_size;
    return Status::more;
  }
  if (has_length_) {
    if (content_length_ == 0) {
      state_ = State::done;
      return Status::done;
    }
    remaining_ = content_length_;
    state_ = State::body_length;
    return Status::more;
  }
  keep_alive_ = false;
  state_ = State::body_close;
  return Status::more;
}

Http1Parser::Status Http1Parser::on_chunk_size(const std::string& line) {
  std::size_t i = 0;
  std::uint64_t size = 0;
  while (i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i]))) {
    if (i >= 15) return fail(Result::bad_chunk);  // keeps the size below 2^60
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i])));
    size = size * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : c - 'a' + 10);
    ++i;
  }
  if (i == 0) return fail(Result::bad_chunk);
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i < line.size() && line[i] != ';') return fail(Result::bad_chunk);
  if (line.find('\0') != std::string::npos) return fail(Result::bad_chunk);
  if (size == 0) {
    state_ = State::trailer_line;
  } else {
    remaining_ = size;
    state_ = State::chunk_data;
  }
  return Status::more;
}

Http1Parser::Status Http1Parser::eof() {
  switch (state_) {
    case State::done:
      return Status::done;
    case State::error:
      return Status::error;
    case State::body_close:
      state_ = State::done;
      return Status::done;
    case State::status_line:
      return fail(header_bytes_ == 0 ? Result::empty_reply : Result::partial_headers);
    case State::header_line:
      return fail(Result::partial_headers);
    default:
      return fail(Result::partial_body);
  }
}

}  // namespace msb::detail
