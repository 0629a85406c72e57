// TLS over the same non-blocking socket, with OpenSSL 3: the handshake, reads and writes are
// driven only by socket_action(), and whatever OpenSSL waits for (WANT_READ, WANT_WRITE) is
// handed back as `want`, so the socket callback follows the handshake's turns and a read
// that needs a write (a key update) alike.
//
// OpenSSL's bytes go through SysCalls, like every other socket call of the engine: the
// socket BIO is replaced by one whose read and write are sys.recv/sys.send (so tests inject
// failures into TLS as into TCP). One SSL_CTX per Multi, made at the first https:// transfer:
// the CA store, the verification mode and the client session cache live there. A session
// is kept per origin for resumption (the newest the server sent: TLS 1.3 tickets arrive
// after the handshake, during a read).
//
// Memory: an idle connection's read and write buffers are released (SSL_MODE_RELEASE_BUFFERS,
// and SSL_free_buffers after a read leaves nothing pending; 16.7 kB each otherwise), which is
// what lets 10,000 idle HTTPS connections stay small. Every connection shares one BIO: the
// engine runs one SSL call at a time, so the BIO's callbacks act on `current_`, the
// connection whose call is running (a BIO per connection was two allocations, 778 B, in
// massif).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "msb/multi.h"
#include "msb/sys.h"
#include "transport/transport.h"

// OpenSSL's types, kept out of the engine's headers.
struct ssl_st;
struct ssl_ctx_st;
struct ssl_session_st;
struct bio_st;
struct bio_method_st;

namespace msb::detail {

struct Url;

class TlsTransport final : public Transport {
 public:
  // Loads the CA store; `error()` says why it could not (a CA file that is not there).
  TlsTransport(SysCalls& sys, const TlsOptions& options);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;
  const std::string& error() const { return error_; }
  Result error_code() const { return error_code_; }  // bad_option or out_of_memory

  // Makes c's TLS session for `url` (SNI, the name or address to verify, ALPN http/1.1, the
  // origin's last session to resume) once its TCP connection is up; false: out of memory.
  bool attach(Connection& c, const Url& url);
  // The handshake, step by step.
  IoResult start(Connection& c) override;
  IoResult send(Connection& c, int fd, const char* data, std::size_t len) override;
  IoResult recv(Connection& c, int fd, char* buf, std::size_t len) override;
  bool reusable(Connection& c) override;
  // close_notify (not waiting for the peer's), then the socket.
  void close(Connection& c) override;

  // Whether c's finished handshake resumed a session.
  static bool resumed(const Connection& c);

 private:
  IoResult failed(Connection& c, int ret, bool handshake);
  void fail_setup(const std::string& why, bool out_of_memory = false);
  void release_buffers(Connection& c);
  // The connection whose SSL call runs now: set before every call that may read or write.
  ssl_st* enter(Connection& c);
  static int new_session(ssl_st* ssl, ssl_session_st* session);
  static int bio_write(bio_st* bio, const char* data, int len);
  static int bio_read(bio_st* bio, char* buf, int len);

  SysCalls& sys_;
  TlsOptions options_;
  std::string error_;
  Result error_code_ = Result::ok;
  ssl_ctx_st* ctx_ = nullptr;
  bio_method_st* bio_method_ = nullptr;
  bio_st* bio_ = nullptr;          // shared by every connection's SSL (one reference each)
  Connection* current_ = nullptr;  // whose SSL call is running
  int last_errno_ = 0;             // of the BIO's last failed system call
  // The newest session per origin; bounded (a benchmark has few origins).
  std::unordered_map<std::string, ssl_session_st*> sessions_;
};

}  // namespace msb::detail
