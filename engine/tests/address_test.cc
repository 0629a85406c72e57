#include "core/address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace msb::detail {
namespace {

// Bytes of what parse_ip() gives, to compare with what the remembering parser gives.
std::string bytes(const ResolvedAddress* a) {
  if (!a) return "none";
  return std::string(reinterpret_cast<const char*>(&a->addr), a->len);
}

TEST(LastHostParse, AgreesWithParseIpWhateverTheOrderOfHostsAndPorts) {
  LastHostParse last;
  const struct {
    const char* host;
    std::uint16_t port;
  } steps[] = {{"127.0.0.1", 80},    {"127.0.0.1", 8080},
               {"127.0.0.2", 8080},  {"::1", 443},
               {"::1", 444},         {"example.test", 80},
               {"example.test", 81}, {"127.0.0.1", 1},
               {"127.0.0.1", 65535}, {"", 80},
               {"10.0.0.1", 80}};
  for (const auto& s : steps) {
    SCOPED_TRACE(std::string(s.host) + ":" + std::to_string(s.port));
    const auto expected = parse_ip(s.host, s.port);
    EXPECT_EQ(bytes(last.parse(s.host, s.port)), bytes(expected ? &*expected : nullptr));
  }
  const auto v6 = last.parse("::1", 8443);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->addr.ss_family, AF_INET6);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6*>(&v6->addr)->sin6_port), 8443);
}

}  // namespace
}  // namespace msb::detail
