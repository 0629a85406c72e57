// A fresh directory holding a key and a self-signed certificate made for the test (the
// built-in server's own maker), removed afterwards.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "tls_certificate.h"

namespace msb::test {

struct CertDir {
  CertDir() {
    char tmpl[] = "/tmp/msb-tls-XXXXXX";
    dir = ::mkdtemp(tmpl);
    files = server::make_self_signed(dir);
  }
  ~CertDir() { std::filesystem::remove_all(dir); }
  CertDir(const CertDir&) = delete;
  CertDir& operator=(const CertDir&) = delete;
  std::string dir;
  server::TlsFiles files;
};

}  // namespace msb::test
