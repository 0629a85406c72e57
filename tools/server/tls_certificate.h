// Keys and certificates for the built-in server's https:// listeners.
//
// A run (or a test) makes one self-signed certificate at start and gives its file to both
// sides: the servers present it, the clients trust it as their CA file, so verification is
// on by default even against the built-in server (no `insecure` needed).
#pragma once

#include <string>
#include <vector>

struct ssl_ctx_st;

namespace msb::server {

struct TlsFiles {
  std::string cert_file;  // PEM: the certificate (self-signed, so also the CA to trust)
  std::string key_file;   // PEM: its private key
};

// Writes a new P-256 key and a self-signed certificate valid for a day into `dir`
// (cert.pem, key.pem), for 127.0.0.1, ::1, localhost and `names` (host names or IP
// literals). Throws std::runtime_error naming the file or step that failed.
TlsFiles make_self_signed(const std::string& dir, const std::vector<std::string>& names = {});

// A server context presenting `files`; throws std::runtime_error naming the file that could
// not be loaded. The caller frees it with SSL_CTX_free.
ssl_ctx_st* server_context(const TlsFiles& files);

// For the TLS faults: a context presenting a certificate that `ca` (a make_self_signed()
// pair) issued for other.invalid only (a client trusting `ca` sees a name mismatch), and
// one presenting a new self-signed certificate nobody trusts.
ssl_ctx_st* wrong_name_context(const TlsFiles& ca);
ssl_ctx_st* untrusted_context();

}  // namespace msb::server
