#include "transport/tcp_transport.h"

#include <cerrno>

#include "core/transfer.h"
#include "msb/events.h"

namespace msb::detail {

namespace {

// Retries EINTR; maps EAGAIN to `again` (watch for `want`) and other errors to `error`.
template <typename Call>
IoResult io(Call call, std::uint8_t want) {
  for (;;) {
    const SysResult r = call();
    if (!r.failed()) {
      IoResult out;
      out.status = r.rc == 0 && want == kPollIn ? IoResult::eof : IoResult::done;
      out.n = static_cast<std::size_t>(r.rc);
      return out;
    }
    if (r.err == EINTR) continue;
    IoResult out;
    if (r.err == EAGAIN || r.err == EWOULDBLOCK) {
      out.status = IoResult::again;
      out.want = want;
    } else {
      out.status = IoResult::error;
      out.err = r.err;
    }
    return out;
  }
}

}  // namespace

IoResult TcpTransport::send(Connection&, int fd, const char* data, std::size_t len) {
  return io([&] { return sys_.send(fd, data, len, MSG_NOSIGNAL); }, kPollOut);
}

IoResult TcpTransport::recv(Connection&, int fd, char* buf, std::size_t len) {
  return io([&] { return sys_.recv(fd, buf, len, 0); }, kPollIn);
}

// An idle connection the server closed (or wrote junk on) must not be reused: peek.
bool TcpTransport::reusable(Connection& c) {
  char probe;
  const SysResult r = sys_.recv(c.fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return r.failed() && (r.err == EAGAIN || r.err == EWOULDBLOCK);
}

void TcpTransport::close(Connection& c) {
  sys_.close(c.fd);
  c.fd = -1;
}

}  // namespace msb::detail
