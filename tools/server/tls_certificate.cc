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

}  // namespace

TlsFiles make_self_signed(const std::string& dir, const std::vector<std::string>& names) {
  std::unique_ptr<EVP_PKEY, Deleter> key(EVP_EC_gen("P-256"));
  if (!key) fail("cannot generate a P-256 key");
  std::unique_ptr<X509, Deleter> cert(X509_new());
  if (!cert) fail("out of memory");
  X509* x = cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>(std::time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key.get());
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("msbench built-in server"), -1,
                             -1, 0);
  X509_set_issuer_name(x, subject);
  std::string san = "IP:127.0.0.1,IP:::1,DNS:localhost";
  for (const auto& n : names) san += (is_ip(n) ? ",IP:" : ",DNS:") + n;
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  // A CA as well as a server certificate: the clients trust it as their CA file.
  const std::pair<int, std::string> extensions[] = {
      {NID_subject_alt_name, san},
      {NID_basic_constraints, "critical,CA:TRUE"},
      {NID_key_usage, "critical,digitalSignature,keyCertSign"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_key_identifier, "hash"},
  };
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (!ext || X509_add_ext(x, ext, -1) != 1) fail("bad extension " + value);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x, key.get(), EVP_sha256()) == 0) fail("cannot sign the certificate");
  TlsFiles files{dir + "/cert.pem", dir + "/key.pem"};
  write_pem(files.key_file, [&](std::FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  write_pem(files.cert_file, [&](std::FILE* f) { return PEM_write_X509(f, x); });
  return files;
}

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
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Idle connections are most of what the server holds: no 34 KiB buffers while idle.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

}  // namespace msb::server
