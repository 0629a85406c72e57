#include "tls_certificate.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <stdexcept>

namespace msb::server {

namespace {

[[noreturn]] void fail(const std::string& what) {
  const char* why = ERR_reason_error_string(ERR_peek_last_error());
  ERR_clear_error();
  throw std::runtime_error("TLS certificate: " + what + (why ? std::string(": ") + why : ""));
}

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(std::FILE* f) const { std::fclose(f); }
};

bool is_ip(const std::string& name) {
  in6_addr any;
  return inet_pton(AF_INET, name.c_str(), &any) == 1 ||
         inet_pton(AF_INET6, name.c_str(), &any) == 1;
}

void write_pem(const std::string& path, const std::function<int(std::FILE*)>& write) {
  std::unique_ptr<std::FILE, Deleter> f(std::fopen(path.c_str(), "w"));
  if (!f || write(f.get()) != 1) fail("cannot write " + path);
}

struct Issued {
  std::unique_ptr<EVP_PKEY, Deleter> key;
  std::unique_ptr<X509, Deleter> cert;
};

// A new P-256 key and its certificate for `san` (OpenSSL's "IP:...,DNS:..." form), valid for
// a day, signed by `issuer` (or by itself: then a CA too, so clients can trust it as such).
Issued issue(const std::string& common_name, const std::string& san, X509* issuer_cert,
             EVP_PKEY* issuer_key) {
  Issued out{std::unique_ptr<EVP_PKEY, Deleter>(EVP_EC_gen("P-256")),
             std::unique_ptr<X509, Deleter>(X509_new())};
  if (!out.key) fail("cannot generate a P-256 key");
  if (!out.cert) fail("out of memory");
  X509* x = out.cert.get();
  const bool self_signed = issuer_cert == nullptr;
  X509_set_version(x, 2);
  static long serial = 0;
  ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>(std::time(nullptr)) + ++serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, out.key.get());
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(x, self_signed ? subject : X509_get_subject_name(issuer_cert));
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, self_signed ? x : issuer_cert, x, nullptr, nullptr, 0);
  const std::pair<int, std::string> extensions[] = {
      {NID_subject_alt_name, san},
      {NID_basic_constraints, self_signed ? "critical,CA:TRUE" : "critical,CA:FALSE"},
      {NID_key_usage,
       self_signed ? "critical,digitalSignature,keyCertSign" : "critical,digitalSignature"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_key_identifier, "hash"},
  };
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (!ext || X509_add_ext(x, ext, -1) != 1) fail("bad extension " + value);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x, self_signed ? out.key.get() : issuer_key, EVP_sha256()) == 0)
    fail("cannot sign the certificate");
  return out;
}

ssl_ctx_st* context_with(X509* cert, EVP_PKEY* key);

}  // namespace

TlsFiles make_self_signed(const std::string& dir, const std::vector<std::string>& names) {
  std::string san = "IP:127.0.0.1,IP:::1,DNS:localhost";
  for (const auto& n : names) san += (is_ip(n) ? ",IP:" : ",DNS:") + n;
  const Issued ca = issue("msbench built-in server", san, nullptr, nullptr);
  TlsFiles files{dir + "/cert.pem", dir + "/key.pem"};
  write_pem(files.key_file, [&](std::FILE* f) {
    return PEM_write_PrivateKey(f, ca.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  write_pem(files.cert_file, [&](std::FILE* f) { return PEM_write_X509(f, ca.cert.get()); });
  return files;
}

ssl_ctx_st* wrong_name_context(const TlsFiles& ca) {
  std::unique_ptr<std::FILE, Deleter> cf(std::fopen(ca.cert_file.c_str(), "r"));
  std::unique_ptr<std::FILE, Deleter> kf(std::fopen(ca.key_file.c_str(), "r"));
  std::unique_ptr<X509, Deleter> ca_cert(cf ? PEM_read_X509(cf.get(), nullptr, nullptr, nullptr)
                                            : nullptr);
  std::unique_ptr<EVP_PKEY, Deleter> ca_key(
      kf ? PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!ca_cert || !ca_key) fail("cannot read the CA " + ca.cert_file);
  const Issued leaf = issue("other.invalid", "DNS:other.invalid", ca_cert.get(), ca_key.get());
  return context_with(leaf.cert.get(), leaf.key.get());
}

ssl_ctx_st* untrusted_context() {
  const Issued self =
      issue("nobody trusts me", "IP:127.0.0.1,IP:::1,DNS:localhost", nullptr, nullptr);
  return context_with(self.cert.get(), self.key.get());
}

namespace {

void tune(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Idle connections are most of what the server holds: no 34 KiB buffers while idle.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

ssl_ctx_st* context_with(X509* cert, EVP_PKEY* key) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx || SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
    SSL_CTX_free(ctx);
    fail("cannot make a server context");
  }
  tune(ctx);
  return ctx;
}

}  // namespace

ssl_ctx_st* server_context(const TlsFiles& files) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) fail("out of memory");
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1) {
    SSL_CTX_free(ctx);
    fail("cannot load the certificate " + files.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    SSL_CTX_free(ctx);
    fail("cannot load the key " + files.key_file);
  }
  tune(ctx);
  return ctx;
}

}  // namespace msb::server
