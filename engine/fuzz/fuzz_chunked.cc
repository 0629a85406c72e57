// Fuzzes the chunked decoder: the fuzz bytes are the body of a response that declared
// Transfer-Encoding: chunked (sizes, extensions, data, the last chunk, trailers). The
// decoded bytes, the verdict and the error must not depend on how the body is split into
// reads (whole, one byte at a time, or pieces of the size the first byte picks); the decoder
// may never hand out more bytes than it was given, nor claim bytes it did not hand out.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http1/http1_parser.h"

using msb::detail::BodySink;
using msb::detail::Http1Parser;

namespace {

const std::string kHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

struct Decoded {
  Http1Parser::Status status;
  msb::Result error;
  std::string body;
};

Decoded decode(const std::uint8_t* data, std::size_t size, std::size_t piece) {
  Http1Parser p;
  p.reset(false);
  Decoded d{Http1Parser::Status::more, msb::Result::ok, {}};
  BodySink sink{
      [](void* ctx, const char* b, std::size_t n) { static_cast<std::string*>(ctx)->append(b, n); },
      &d.body};
  std::size_t used = 0;
  if (p.feed(kHead.data(), kHead.size(), &used, sink) != Http1Parser::Status::more ||
      used != kHead.size()) {
    std::abort();  // the head alone is complete and valid
  }
  std::size_t pos = 0;
  while (pos < size && d.status == Http1Parser::Status::more) {
    const std::size_t n = piece ? std::min(piece, size - pos) : size - pos;
    used = 0;
    d.status = p.feed(reinterpret_cast<const char*>(data) + pos, n, &used, sink);
    if (used > n) std::abort();
    pos += used;
  }
  if (d.status == Http1Parser::Status::more) d.status = p.eof();
  d.error = p.error();
  if (d.body.size() != p.body_bytes() || d.body.size() > size) std::abort();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = 1 + data[0] % 16;
  const Decoded whole = decode(data + 1, size - 1, 0);
  const Decoded bytewise = decode(data + 1, size - 1, 1);
  const Decoded split = decode(data + 1, size - 1, piece);
  for (const Decoded* d : {&bytewise, &split}) {
    if (d->status != whole.status || d->error != whole.error || d->body != whole.body) std::abort();
  }
  return 0;
}
