// Fuzzes the response parser: the first byte picks HEAD or GET and how the rest is split
// into reads; the parser must never crash, never consume bytes it was not given, and must
// reach the same verdict as when the bytes arrive in one piece.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http1/http1_parser.h"

using msb::detail::BodySink;
using msb::detail::Http1Parser;

namespace {

struct Verdict {
  Http1Parser::Status status;
  msb::Result error;
  std::uint64_t body;
};

Verdict parse(const std::uint8_t* data, std::size_t size, bool head, std::size_t piece) {
  Http1Parser p;
  p.reset(head);
  std::uint64_t sunk = 0;
  BodySink sink{
      [](void* ctx, const char*, std::size_t n) { *static_cast<std::uint64_t*>(ctx) += n; }, &sunk};
  Http1Parser::Status st = Http1Parser::Status::more;
  std::size_t pos = 0;
  while (pos < size && st == Http1Parser::Status::more) {
    const std::size_t n = piece ? std::min(piece, size - pos) : size - pos;
    std::size_t used = 0;
    st = p.feed(reinterpret_cast<const char*>(data) + pos, n, &used, sink);
    if (used > n) std::abort();
    pos += used;
  }
  if (st == Http1Parser::Status::more) st = p.eof();
  if (sunk != p.body_bytes()) std::abort();
  return {st, p.error(), sunk};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool head = data[0] & 1;
  const std::size_t piece = (data[0] >> 1) % 17;  // 0: whole, else reads of 1..16 bytes
  const Verdict whole = parse(data + 1, size - 1, head, 0);
  const Verdict split = parse(data + 1, size - 1, head, piece);
  if (whole.status != split.status || whole.error != split.error || whole.body != split.body) {
    std::abort();
  }
  return 0;
}
