#include "http1/http1_parser.h"

#include "msb/http_syntax.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>

namespace msb::detail {

namespace {

constexpr int hex_value(unsigned char c) {
  return is_digit(c) ? c - '0' : (lower(c) >= 'a' && lower(c) <= 'f') ? lower(c) - 'a' + 10 : -1;
}

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
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

// NUL or CR anywhere in `s` (RFC 9110 §5.5: a line holding one is rejected). A byte loop
// for short strings, where two memchr calls cost more than the bytes (a Content-Length's
// " 10", a status line's " OK").
inline bool has_nul_or_cr(std::string_view s) {
  if (s.size() <= 16) {
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c <= '\r' && (c == '\0' || c == '\r')) return true;  // one compare for most bytes
    }
    return false;
  }
  return std::memchr(s.data(), '\0', s.size()) || std::memchr(s.data(), '\r', s.size());
}

// A decimal number that fits 64 bits, leading zeros allowed.
bool parse_decimal(std::string_view s, std::uint64_t* out) {
  if (s.empty()) return false;
  std::uint64_t n = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (!is_digit(c)) return false;
    if (__builtin_mul_overflow(n, 10u, &n) || __builtin_add_overflow(n, c - '0', &n)) {
      return false;
    }
  }
  *out = n;
  return true;
}

// The fields whose values frame the message or decide reuse.
enum class Framing : std::uint8_t { none, content_length, transfer_encoding, connection };

// `name` must be a token (see token_is).
Framing framing_field(std::string_view name) {
  switch (name.size()) {
    case 10:
      return token_is(name, "connection") ? Framing::connection : Framing::none;
    case 14:
      return token_is(name, "content-length") ? Framing::content_length : Framing::none;
    case 17:
      return token_is(name, "transfer-encoding") ? Framing::transfer_encoding : Framing::none;
    default:
      return Framing::none;
  }
}

// A chunk extension list: *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ).
bool valid_chunk_extensions(std::string_view s) {
  auto skip_ows = [&] {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  };
  auto take_token = [&] {
    std::size_t n = 0;
    while (n < s.size() && is_tchar(static_cast<unsigned char>(s[n]))) ++n;
    s.remove_prefix(n);
    return n > 0;
  };
  skip_ows();
  while (!s.empty()) {
    if (s.front() != ';') return false;
    s.remove_prefix(1);
    skip_ows();
    if (!take_token()) return false;
    skip_ows();
    if (s.empty() || s.front() != '=') continue;
    s.remove_prefix(1);
    skip_ows();
    if (!s.empty() && s.front() == '"') {
      s.remove_prefix(1);
      bool closed = false;
      while (!s.empty() && !closed) {
        const auto c = static_cast<unsigned char>(s.front());
        s.remove_prefix(1);
        if (c == '"') {
          closed = true;
        } else if (c == '\\') {
          if (s.empty()) return false;
          const auto q = static_cast<unsigned char>(s.front());
          if (q < 0x20 && q != '\t') return false;
          if (q == 0x7f) return false;
          s.remove_prefix(1);
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
          return false;
        }
      }
      if (!closed) return false;
    } else if (!take_token()) {
      return false;
    }
    skip_ows();
  }
  return true;
}

// Where a line split over reads is joined: one per thread (a Multi runs on one), kept, so a
// joined line allocates only when it is longer than any before it.
std::string& scratch() {
  thread_local std::string joined;
  return joined;
}

}  // namespace

void Http1Parser::reset(bool head_request) {
  *this = Http1Parser();
  head_request_ = head_request;
}

void Http1Parser::begin_response() {
  http11_ = true;
  chunked_ = bad_coding_ = has_length_ = conn_close_ = conn_keep_alive_ = seen_field_ = false;
  content_length_ = 0;
  state_ = State::status_line;
}

namespace {
constexpr unsigned states_bit(std::initializer_list<int> states) {
  unsigned bits = 0;
  for (int s : states) bits |= 1u << s;
  return bits;
}
}  // namespace

// One bit test rather than a chain of compares: asked for every piece of every response.
bool Http1Parser::is_line_state() const {
  constexpr unsigned kLines =
      states_bit({int(State::status_line), int(State::header_line), int(State::chunk_size),
                  int(State::chunk_data_end), int(State::trailer_line)});
  return (kLines >> static_cast<int>(state_)) & 1u;
}

bool Http1Parser::in_body() const {
  return state_ == State::body_length || state_ == State::body_close ||
         state_ == State::chunk_size || state_ == State::chunk_data ||
         state_ == State::chunk_data_end || state_ == State::trailer_line;
}

namespace {
// A TLS record (an alert, a ServerHello) where a status line belongs: a TLS server on a port
// asked for plain HTTP. Content types alert (21) and handshake (22), the records a TLS server
// sends first; no status line starts with either byte.
bool is_tls_record_start(char c) {
  return c == 0x15 || c == 0x16;
}
}  // namespace

Http1Parser::Status Http1Parser::fail(Result r) {
  state_ = State::error;
  error_ = r;
  pending_ = 0;
  std::string().swap(line_);
  return Status::error;
}

Http1Parser::Status Http1Parser::feed_any(const char* data, std::size_t len, std::size_t* consumed,
                                          BodySink sink) {
  std::size_t pos = 0;
  Status st = Status::more;
  while (pos < len && st == Status::more) {
    if (is_line_state()) {
      if (pending_ != 0 && line_.size() == pending_ && !is_ows(data[pos])) {
        // The line after a pending framing field starts here, and not with a fold: the
        // field is whole and is interpreted now, exactly as when the two lines arrive in
        // one read (on_header_line does it at once then). Waiting for this line's end made
        // the verdict depend on where the reads split (found by fuzz_http1_parser: a bad
        // length, then a line never finished).
        st = take_pending();
        if (st == Status::error) break;
      }
      constexpr unsigned kHeaders =
          states_bit({int(State::status_line), int(State::header_line), int(State::trailer_line)});
      const bool in_headers = (kHeaders >> static_cast<int>(state_)) & 1u;
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
      if (!nl) {
        line_.append(data + pos, end - pos);
        pos = len;
        break;
      }
      // The whole line, copied only where it must be: a line that arrived whole is read
      // where it lies; one whose start came in an earlier read is joined in a scratch
      // buffer that keeps its storage (line_ would allocate for any line over 15 bytes);
      // a fold of a pending framing field joins that field in line_.
      std::string_view line;
      if (line_.empty()) {
        line = std::string_view(data + pos, end - pos);
      } else if (pending_ == 0) {
        std::string& joined = scratch();
        joined.assign(line_).append(data + pos, end - pos);
        line_.clear();
        line = joined;
      } else {
        line_.append(data + pos, end - pos);
        line = std::string_view(line_).substr(pending_);
      }
      pos += take;
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
        if (pending_) line_.pop_back();  // the field may be read from line_ whole (below)
      }
      // Whether an obs-fold may still continue this line: unknown until the next byte.
      const bool unfolded = pos < len && !is_ows(data[pos]);
      st = on_line(line, unfolded);
      if (state_ != State::error) line_.resize(pending_);  // keeps a pending framing field
      continue;
    }
    switch (state_) {
      case State::body_length:
      case State::chunk_data: {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, len - pos));
        take_body(data + pos, n, sink);
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

Http1Parser::Status Http1Parser::on_line(std::string_view line, bool unfolded) {
  switch (state_) {
    case State::status_line:
      return on_status_line(line);
    case State::header_line:
      return on_header_line(line, unfolded);
    case State::chunk_size:
      return on_chunk_size(line);
    case State::chunk_data_end:
      if (!line.empty()) return fail(Result::bad_chunk);
      state_ = State::chunk_size;
      return Status::more;
    case State::trailer_line:
      return on_trailer_line(line);
    default:
      return fail(Result::bad_response);
  }
}

Http1Parser::Status Http1Parser::on_status_line(std::string_view line) {
  // Empty lines between an interim response and the next status line carry nothing.
  if (line.empty() && informational_ > 0) return Status::more;
  // "HTTP/1.x SSS[ reason]"
  if (line.size() < 12 || std::memcmp(line.data(), "HTTP/1.", 7) != 0 ||
      (line[7] != '0' && line[7] != '1') || line[8] != ' ') {
    // Told apart only once the line failed, so a good status line pays nothing for it.
    if (!line.empty() && is_tls_record_start(line[0])) return fail(Result::tls_record_error);
    return fail(Result::bad_status_line);
  }
  for (int i = 9; i < 12; ++i) {
    if (!is_digit(static_cast<unsigned char>(line[i]))) return fail(Result::bad_status_line);
  }
  if (line[9] == '0') return fail(Result::bad_status_line);  // no class; 0 means "none"
  if (line.size() > 12 && line[12] != ' ') return fail(Result::bad_status_line);
  if (has_nul_or_cr(line.substr(12))) return fail(Result::bad_status_line);
  http11_ = line[7] == '1';
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  state_ = State::header_line;
  return Status::more;
}

Http1Parser::Status Http1Parser::on_header_line(std::string_view line, bool unfolded) {
  if (!line.empty() && is_ows(line.front())) {
    // obs-fold: the line continues the previous field's value.
    if (has_nul_or_cr(line) || !seen_field_) return fail(Result::bad_header);
    if (pending_ == 0) return Status::more;  // a field we do not interpret
    const std::string more(trim(line));      // a copy: `line` points into line_
    line_.resize(pending_);
    if (!more.empty()) {
      line_.push_back(' ');
      line_.append(more);
    }
    pending_ = static_cast<std::uint32_t>(line_.size());
    return Status::more;
  }
  // No field is pending here: feed() interprets one as soon as the next line's first byte
  // shows it is not folded.
  if (line.empty()) return on_headers_end();
  seen_field_ = true;
  // The name is a token up to the colon: one pass finds the colon and checks each byte.
  std::size_t colon = 0;
  while (colon < line.size() && is_tchar(static_cast<unsigned char>(line[colon]))) ++colon;
  // The name's bytes are tchars, so only the value may hold a NUL or CR.
  if (colon == 0 || colon == line.size() || line[colon] != ':') return fail(Result::bad_header);
  if (has_nul_or_cr(line.substr(colon + 1))) return fail(Result::bad_header);
  const Framing framing = framing_field(line.substr(0, colon));
  if (framing == Framing::none) return Status::more;
  pending_framing_ = static_cast<std::uint8_t>(framing);
  // A framing field is whole when the next line is seen not to fold into it; until then it
  // waits at the front of line_.
  if (unfolded) return interpret_field(line, colon);
  line_.assign(line);  // `line` lies in the read or the scratch buffer, never in line_
  pending_ = static_cast<std::uint32_t>(line.size());
  return Status::more;
}

Http1Parser::Status Http1Parser::take_pending() {
  const std::string_view field = std::string_view(line_).substr(0, pending_);
  pending_ = 0;
  const Status st = interpret_field(field, field.find(':'));
  if (st != Status::error) line_.clear();
  return st;
}

Http1Parser::Status Http1Parser::interpret_field(std::string_view line, std::size_t colon) {
  const std::string_view value = trim(line.substr(colon + 1));
  switch (static_cast<Framing>(pending_framing_)) {
    case Framing::content_length: {
      // One number is the usual value: read at once, where the list walk below cost 150
      // instructions more per response (gate workload).
      std::uint64_t n = 0;
      if (parse_decimal(value, &n)) {
        if (has_length_ && n != content_length_) return fail(Result::bad_content_length);
        has_length_ = true;
        content_length_ = n;
        break;
      }
      bool ok = true;
      for_each_token(value, [&](std::string_view tok) {
        std::uint64_t n = 0;
        if (!parse_decimal(tok, &n) || (has_length_ && n != content_length_)) {
          ok = false;
          return;
        }
        has_length_ = true;
        content_length_ = n;
      });
      if (!ok) return fail(Result::bad_content_length);
      break;
    }
    case Framing::transfer_encoding:
      // Only one coding may be used, chunked, since no TE is sent: any other coding, or
      // chunked twice, cannot be decoded here.
      for_each_token(value, [&](std::string_view tok) {
        if (tok.empty()) return;  // an empty list element is allowed and means nothing
        if (iequals(tok, "chunked") && !chunked_) {
          chunked_ = true;
        } else {
          bad_coding_ = true;
        }
      });
      break;
    case Framing::connection:
      for_each_token(value, [&](std::string_view tok) {
        if (iequals(tok, "close")) conn_close_ = true;
        if (iequals(tok, "keep-alive")) conn_keep_alive_ = true;
      });
      break;
    case Framing::none:
      break;
  }
  return Status::more;
}

Http1Parser::Status Http1Parser::on_headers_end() {
  if (status_ >= 100 && status_ < 200) {
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
  if (bad_coding_) return fail(Result::unsupported_coding);
  if (chunked_) {
    // A Transfer-Encoding overrides Content-Length; a message carrying both is a smuggling
    // attempt or a broken proxy, and HTTP/1.0 has no transfer codings: either way the
    // connection is not reused after it.
    if (has_length_ || !http11_) keep_alive_ = false;
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

Http1Parser::Status Http1Parser::on_chunk_size(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] == '0') ++i;  // leading zeros carry nothing
  const std::size_t first = i;
  std::uint64_t size = 0;
  while (i < line.size() && hex_value(static_cast<unsigned char>(line[i])) >= 0) {
    if (i - first >= 16) return fail(Result::bad_chunk);  // past 64 bits
    size = size * 16 + static_cast<unsigned>(hex_value(static_cast<unsigned char>(line[i])));
    ++i;
  }
  if (i == 0) return fail(Result::bad_chunk);
  if (!valid_chunk_extensions(line.substr(i))) return fail(Result::bad_chunk);
  if (size == 0) {
    state_ = State::trailer_line;
    seen_field_ = false;  // a fold cannot start the trailers
  } else {
    remaining_ = size;
    state_ = State::chunk_data;
  }
  return Status::more;
}

Http1Parser::Status Http1Parser::on_trailer_line(std::string_view line) {
  if (line.empty()) {
    state_ = State::done;
    return Status::done;
  }
  if (line.find('\0') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
    return fail(Result::bad_chunk);
  }
  if (is_ows(line.front())) return seen_field_ ? Status::more : fail(Result::bad_chunk);  // folded
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
    return fail(Result::bad_chunk);
  }
  seen_field_ = true;  // trailers are read and ignored
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
      if (header_bytes_ == 0) return fail(Result::empty_reply);
      // An alert holds no newline: it is still the unfinished line when the server closes.
      if (!line_.empty() && is_tls_record_start(line_[0])) return fail(Result::tls_record_error);
      return fail(Result::partial_headers);
    case State::header_line:
      return fail(Result::partial_headers);
    default:
      return fail(Result::partial_body);
  }
}

}  // namespace msb::detail
