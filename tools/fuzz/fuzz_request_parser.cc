// Fuzzes the built-in server's request parser: the first byte picks how the rest is split
// into reads; the parser must never crash, never consume bytes it was not given, and must
// reach the same verdict (requests read, their bodies, the error status) as when the bytes
// arrive in one piece.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "request_parser.h"

using msb::server::RequestParser;

namespace {

struct Verdict {
  std::vector<std::string> targets;
  std::uint64_t body = 0;
  int status = 0;
  bool operator==(const Verdict&) const = default;
};

Verdict parse(const std::uint8_t* data, std::size_t size, std::size_t piece) {
  RequestParser p(1 << 20);
  Verdict v;
  std::size_t pos = 0;
  while (pos < size && v.status == 0) {
    const std::size_t n = piece ? std::min(piece, size - pos) : size - pos;
    std::size_t used = 0;
    const auto st = p.feed(reinterpret_cast<const char*>(data) + pos, n, &used);
    if (used > n) std::abort();
    pos += used;
    if (st == RequestParser::Status::error) {
      v.status = p.error_status();
      if (v.status < 400 || v.status > 599) std::abort();
    } else if (p.complete()) {
      v.targets.push_back(p.request().target);
      v.body += p.request().body_bytes;
      p.reset();
    } else if (used == 0) {
      if (n != 0 && st == RequestParser::Status::more) std::abort();  // stuck
      break;
    }
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const Verdict whole = parse(data + 1, size - 1, 0);
  if (!(parse(data + 1, size - 1, piece) == whole)) std::abort();
  if (!(parse(data + 1, size - 1, 1) == whole)) std::abort();
  return 0;
}
