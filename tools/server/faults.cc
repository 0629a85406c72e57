#include "faults.h"

namespace msb::server {

const std::vector<Fault>& faults() {
  using K = FaultKind;
  static const std::vector<Fault> table = {
      {"none", K::none, "", "no fault"},
      {"refused", K::refused, "", "the connection is refused (ECONNREFUSED)"},
      {"reset", K::server, "/fault/reset",
       "the request is read, then the connection is reset (RST)"},
      {"reset_mid_body", K::server, "/fault/reset_mid_body",
       "1000 bytes promised, 10 sent, then a reset"},
      {"close_no_reply", K::server, "/fault/close_no_reply",
       "the request is read, the connection closed without a byte"},
      {"close_in_headers", K::server, "/fault/close_in_headers", "half the headers, then a close"},
      {"close_early", K::server, "/fault/close_early",
       "1000 bytes promised, 10 sent, then a close"},
      {"garbage", K::server, "/fault/garbage", "\"GARBAGE\" instead of a status line"},
      {"huge_headers", K::server, "/fault/huge_headers", "a 200 whose headers run past 1 MiB"},
      {"stall", K::server, "/fault/stall", "half a header line, then nothing"},
      {"silent", K::server, "/silent", "the request is read and never answered"},
      {"noread", K::server, "/fault/noread",
       "the server stops reading after the request line: a large request blocks the sender"},
      {"drip_chunked", K::server, "/fault/drip_chunked",
       "chunked framing arriving one byte every 2 ms"},
      {"tls_truncated", K::server, "/fault/tls_truncated",
       "a body delimited by the close, closed without close_notify (over https)"},
      {"tls_stall", K::tls, "", "the TLS handshake is never answered"},
      {"tls_garbage", K::tls, "", "bytes that are not TLS instead of a ServerHello"},
      {"tls_reset", K::tls, "", "the ClientHello is read, then the connection reset"},
      {"tls_wrong_name", K::tls, "",
       "a certificate from the trusted CA, but for another name (other.invalid)"},
      {"tls_untrusted", K::tls, "", "a self-signed certificate nobody trusts"},
      {"nxdomain", K::dns_nxdomain, "", "the host name does not exist (NXDOMAIN)"},
      {"dns_refused", K::dns_refused, "", "the DNS server refuses the lookup"},
      {"dns_silent", K::dns_silent, "", "the DNS server never answers"},
  };
  return table;
}

const Fault* find_fault(const std::string& name) {
  for (const auto& f : faults()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::vector<std::string> fault_names() {
  std::vector<std::string> out;
  for (const auto& f : faults()) out.emplace_back(f.name);
  return out;
}

}  // namespace msb::server
