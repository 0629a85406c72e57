#include "transport/tls_transport.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>

#include "core/transfer.h"
#include "http1/url.h"
#include "msb/events.h"

namespace msb {

std::string tls_reason(const Done& d) {
  std::string out;
  if (d.tls_error) {
    const char* r = ERR_reason_error_string(d.tls_error);
    out = r ? r : "OpenSSL error " + std::to_string(d.tls_error);
  }
  if (d.tls_verify) {
    if (!out.empty()) out += ": ";
    out += X509_verify_cert_error_string(d.tls_verify);
  }
  return out;
}

namespace detail {

namespace {

// The origin's sessions kept for resumption, at most this many origins (a benchmark has a
// handful; a scan of many hosts must not grow without bound).
constexpr std::size_t kMaxSessionOrigins = 4096;

// Reasons that mean the bytes were not TLS records at all (an HTTP answer, junk) or were
// damaged: the record layer's errors, as opposed to the handshake's.
bool record_layer_reason(int reason) {
  switch (reason) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
    case SSL_R_UNEXPECTED_RECORD:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_BAD_PACKET_LENGTH:
    case SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
      return true;
    default:
      return false;
  }
}

// Empties OpenSSL's error queue; whether it held an allocation failure. Anywhere in it: the
// first error is often only what became of it (a decode error, a certificate that cannot
// be read).
bool clear_errors_out_of_memory() {
  bool oom = false;
  while (const unsigned long e = ERR_get_error())
    oom = oom || ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE;
  return oom;
}

long bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered: writes go straight out
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

}  // namespace

TlsTransport::TlsTransport(SysCalls& sys, const TlsOptions& options)
    : sys_(sys), options_(options) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  bio_method_ = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "msb socket");
  if (!ctx_ || !bio_method_) {
    fail_setup("cannot set up TLS: out of memory", true);
    return;
  }
  BIO_meth_set_write(bio_method_, &TlsTransport::bio_write);
  BIO_meth_set_read(bio_method_, &TlsTransport::bio_read);
  BIO_meth_set_ctrl(bio_method_, &bio_ctrl);
  BIO_meth_set_create(bio_method_, &bio_create);
  bio_ = BIO_new(bio_method_);
  if (!bio_) {
    fail_setup("cannot set up TLS: out of memory", true);
    return;
  }
  BIO_set_data(bio_, this);

  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  if (SSL_CTX_set_ciphersuites(ctx_, options_.tls13_ciphersuites.c_str()) != 1) {
    fail_setup("cannot use the TLS 1.3 ciphersuites '" + options_.tls13_ciphersuites + "'");
  }
  SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                             SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // One recv for whatever has arrived instead of two per record (header, then body): a
  // resumed handshake's recv calls, 12.3 -> 2.0 (strace; h2load's 13.1). What OpenSSL holds
  // unprocessed is what SSL_has_pending() reports, so recv() says `more` and it is read
  // without waiting for a poll that would never come.
  SSL_CTX_set_read_ahead(ctx_, 1);
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx_, kAlpn, sizeof kAlpn - 1);
  SSL_CTX_set_verify(ctx_, options_.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (!options_.ca_file.empty() || !options_.ca_path.empty()) {
    const char* file = options_.ca_file.empty() ? nullptr : options_.ca_file.c_str();
    const char* path = options_.ca_path.empty() ? nullptr : options_.ca_path.c_str();
    // Twice before giving up: an allocation failure inside OpenSSL's PEM reader may come
    // out as "PEM lib", as a damaged file does; only a second failure is the file's.
    bool loaded = false, out_of_memory = false;
    const char* why = nullptr;
    for (int attempt = 0; attempt < 2 && !loaded && !out_of_memory; ++attempt) {
      loaded = SSL_CTX_load_verify_locations(ctx_, file, path) == 1;
      if (!loaded) why = ERR_reason_error_string(ERR_peek_last_error());
      out_of_memory = !loaded && clear_errors_out_of_memory();
    }
    ERR_clear_error();
    if (out_of_memory) {
      fail_setup("cannot load the CA certificates: out of memory", true);
    } else if (!loaded) {
      fail_setup(
          "cannot load the CA certificates from " +
          (file ? "ca_file '" + options_.ca_file + "'" : "ca_path '" + options_.ca_path + "'") +
          ": " + (why ? why : "unknown error"));
    }
  } else if (options_.verify_peer && SSL_CTX_set_default_verify_paths(ctx_) != 1) {
    fail_setup("cannot load the system's CA certificates");
  }
  // ex_data: may allocate, and fail (a context without it would lose every session ticket).
  if (SSL_CTX_set_app_data(ctx_, this) != 1) fail_setup("cannot set up TLS: out of memory", true);
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx_, &TlsTransport::new_session);
}

// The first reason the context cannot be used; an allocation failure makes it out_of_memory
// rather than a bad option (the same options may work on a retry).
void TlsTransport::fail_setup(const std::string& why, bool out_of_memory) {
  out_of_memory = clear_errors_out_of_memory() || out_of_memory;
  if (!error_.empty()) return;
  error_ = why;
  error_code_ = out_of_memory ? Result::out_of_memory : Result::bad_option;
}

TlsTransport::~TlsTransport() {
  for (auto& [origin, session] : sessions_) SSL_SESSION_free(session);
  SSL_CTX_free(ctx_);
  BIO_free(bio_);
  BIO_meth_free(bio_method_);
}

bool TlsTransport::attach(Connection& c, const Url& url) {
  SSL* ssl = SSL_new(ctx_);
  if (!ssl || BIO_up_ref(bio_) != 1) {
    SSL_free(ssl);
    ERR_clear_error();
    return false;
  }
  SSL_set_bio(ssl, bio_, bio_);  // takes the one reference just added
  SSL_set_connect_state(ssl);
  in6_addr any;
  const bool literal = url.ipv6_literal || inet_pton(AF_INET, url.host.c_str(), &any) == 1;
  bool ok = SSL_set_app_data(ssl, &c) == 1;  // ex_data: may allocate
  // SNI carries names only (RFC 6066); an address is verified against the certificate's IP
  // entries instead.
  if (ok && !literal) ok = SSL_set_tlsext_host_name(ssl, url.host.c_str()) == 1;
  if (ok && options_.verify_peer) {
    ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str()) == 1
                 : SSL_set1_host(ssl, url.host.c_str()) == 1;
  }
  if (ok && options_.session_resumption) {
    // A copy: OpenSSL marks a TLS 1.3 session not resumable once a handshake has used it
    // (tickets are meant to be used once; tls_finish_handshake), which would make every other
    // connection opening meanwhile do a full handshake (6 % of reconnects against nginx,
    // 4 connections at a time). Servers with stateless tickets (nginx, OpenSSL's own) accept
    // a ticket more than once, as h2load's clients rely on too.
    const auto it = sessions_.find(c.origin);
    if (it != sessions_.end()) {
      SSL_SESSION* copy = SSL_SESSION_dup(it->second);
      if (copy) {
        SSL_set_session(ssl, copy);
        SSL_SESSION_free(copy);  // the SSL holds its own reference
      }
    }
  }
  if (!ok) {
    SSL_free(ssl);
    ERR_clear_error();
    return false;
  }
  c.tls = ssl;
  return true;
}

SSL* TlsTransport::enter(Connection& c) {
  current_ = &c;
  return c.tls;
}

IoResult TlsTransport::start(Connection& c) {
  last_errno_ = 0;
  const int ret = SSL_do_handshake(enter(c));
  if (ret == 1) return {};
  return failed(c, ret, true);
}

IoResult TlsTransport::send(Connection& c, int, const char* data, std::size_t len) {
  last_errno_ = 0;
  IoResult out;
  if (SSL_write_ex(enter(c), data, len, &out.n) == 1) return out;
  return failed(c, 0, false);
}

IoResult TlsTransport::recv(Connection& c, int, char* buf, std::size_t len) {
  last_errno_ = 0;
  IoResult out;
  if (SSL_read_ex(enter(c), buf, len, &out.n) == 1) {
    out.more = SSL_has_pending(c.tls) == 1;
    if (!out.more) release_buffers(c);
    return out;
  }
  out = failed(c, 0, false);
  if (out.status == IoResult::again) release_buffers(c);
  return out;
}

// SSL_MODE_RELEASE_BUFFERS frees the read buffer only when an application record is used
// up; a post-handshake message (the session tickets every TLS 1.3 server sends after its
// Finished) runs the handshake state machine, which allocates both 16.7 kB record buffers
// again and keeps them (massif, 1,000 idle connections: 10.7 MB in 640 such buffers out of
// 32 MB in all). SSL_free_buffers refuses while a record is partly read or written.
void TlsTransport::release_buffers(Connection& c) {
  SSL_free_buffers(c.tls);
}

// Bytes on an idle TLS connection may be session tickets (reuse it) or a close_notify or
// alert (do not): let OpenSSL read them.
bool TlsTransport::reusable(Connection& c) {
  char probe;
  // Read ahead, the bytes may already be inside OpenSSL rather than in the socket.
  if (SSL_has_pending(c.tls) != 1) {
    const SysResult r = sys_.recv(c.fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r.failed()) return r.err == EAGAIN || r.err == EWOULDBLOCK;
    if (r.rc == 0) return false;
  }
  last_errno_ = 0;
  std::size_t n = 0;
  if (SSL_read_ex(enter(c), &probe, 1, &n) == 1) return false;  // data nobody asked for
  const int e = SSL_get_error(c.tls, 0);
  ERR_clear_error();
  if (e == SSL_ERROR_WANT_READ) return true;
  c.tls_broken = e != SSL_ERROR_ZERO_RETURN;
  return false;
}

void TlsTransport::close(Connection& c) {
  if (c.tls) {
    // close_notify, once: the peer's is not waited for (RFC 8446 6.1 allows that).
    if (!c.tls_broken && SSL_is_init_finished(c.tls)) SSL_shutdown(enter(c));
    ERR_clear_error();
    SSL_free(c.tls);  // and its reference to the shared BIO
    c.tls = nullptr;
  }
  sys_.close(c.fd);
  c.fd = -1;
}

bool TlsTransport::resumed(const Connection& c) {
  return c.tls && SSL_session_reused(c.tls) == 1;
}

// What an SSL call that did not complete means for the transfer. OpenSSL's error queue is
// read and emptied here, so one connection's failure never shows up in another's.
IoResult TlsTransport::failed(Connection& c, int ret, bool handshake) {
  IoResult out;
  const int e = SSL_get_error(c.tls, ret);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    out.status = IoResult::again;
    out.want = e == SSL_ERROR_WANT_READ ? kPollIn : kPollOut;
    return out;
  }
  if (e == SSL_ERROR_ZERO_RETURN) {  // close_notify: a clean end
    out.status = IoResult::eof;
    return out;
  }
  const unsigned long code = ERR_peek_error();
  const int reason = ERR_GET_REASON(code);
  const bool out_of_memory = clear_errors_out_of_memory();
  c.tls_broken = true;
  out.status = IoResult::error;
  if (out_of_memory) {
    c.tls_error = code;
    out.code = Result::out_of_memory;
    return out;
  }
  if (e == SSL_ERROR_SYSCALL && last_errno_ != 0) {
    // The socket failed (a reset): the transfer's own send/recv error, or the handshake's.
    out.err = last_errno_;
    out.code = handshake ? Result::tls_handshake_failed : Result::ok;
    return out;
  }
  if (e == SSL_ERROR_SYSCALL || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    // The peer closed without close_notify. Mid-handshake that is a failed handshake; after
    // it, HTTP decides: an end it can tell by length is fine or a partial body, one told
    // only by the close is a truncation (an attacker could have cut it).
    c.tls_error = code;
    if (handshake) {
      out.code = Result::tls_handshake_failed;
    } else {
      out.status = IoResult::eof;
      out.code = Result::tls_truncated;
    }
    return out;
  }
  c.tls_error = code;
  if (handshake && options_.verify_peer) {
    const long v = SSL_get_verify_result(c.tls);
    if (v != X509_V_OK) {
      c.tls_verify = static_cast<int>(v);
      out.code = v == X509_V_ERR_OUT_OF_MEM ? Result::out_of_memory
                 : v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH
                     ? Result::tls_name_mismatch
                     : Result::tls_cert_untrusted;
      return out;
    }
  }
  out.code = record_layer_reason(reason) || !handshake ? Result::tls_record_error
                                                       : Result::tls_handshake_failed;
  return out;
}

int TlsTransport::new_session(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<TlsTransport*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  const auto* c = static_cast<const Connection*>(SSL_get_app_data(ssl));
  if (!self->options_.session_resumption || !c) return 0;
  try {
    const auto it = self->sessions_.find(c->origin);
    if (it != self->sessions_.end()) {
      SSL_SESSION_free(it->second);
      it->second = session;
      return 1;  // the reference is ours now
    }
    if (self->sessions_.size() >= kMaxSessionOrigins) return 0;
    self->sessions_.emplace(c->origin, session);
    return 1;
  } catch (...) {  // out of memory: no resumption for this origin, nothing else lost
    return 0;
  }
}

int TlsTransport::bio_write(BIO* bio, const char* data, int len) {
  auto* self = static_cast<TlsTransport*>(BIO_get_data(bio));
  Connection* c = self->current_;
  BIO_clear_retry_flags(bio);
  for (;;) {
    const SysResult r = self->sys_.send(c->fd, data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
    if (!r.failed()) return static_cast<int>(r.rc);
    if (r.err == EINTR) continue;
    if (r.err == EAGAIN || r.err == EWOULDBLOCK) {
      BIO_set_retry_write(bio);
    } else {
      self->last_errno_ = r.err;
    }
    return -1;
  }
}

int TlsTransport::bio_read(BIO* bio, char* buf, int len) {
  auto* self = static_cast<TlsTransport*>(BIO_get_data(bio));
  Connection* c = self->current_;
  BIO_clear_retry_flags(bio);
  for (;;) {
    const SysResult r = self->sys_.recv(c->fd, buf, static_cast<std::size_t>(len), 0);
    if (!r.failed()) return static_cast<int>(r.rc);  // 0: the peer closed
    if (r.err == EINTR) continue;
    if (r.err == EAGAIN || r.err == EWOULDBLOCK) {
      BIO_set_retry_read(bio);
    } else {
      self->last_errno_ = r.err;
    }
    return -1;
  }
}

}  // namespace detail
}  // namespace msb
