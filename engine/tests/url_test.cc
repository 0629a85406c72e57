#include "http1/url.h"

#include <gtest/gtest.h>

namespace msb::detail {
namespace {

TEST(Url, ParsesHostPortAndTarget) {
  auto p = parse_url("http://127.0.0.5:8080/a/b?x=1#frag");
  ASSERT_EQ(p.error, Result::ok) << p.detail;
  EXPECT_EQ(p.url.host, "127.0.0.5");
  EXPECT_EQ(p.url.port, 8080);
  EXPECT_EQ(p.url.target, "/a/b?x=1");
}

TEST(Url, DefaultsPortAndPath) {
  auto p = parse_url("HTTP://example.test");
  ASSERT_EQ(p.error, Result::ok);
  EXPECT_EQ(p.url.port, 80);
  EXPECT_EQ(p.url.target, "/");
  EXPECT_EQ(parse_url("http://h?q").url.target, "/?q");
}

TEST(Url, ParsesBracketedIpv6) {
  auto p = parse_url("http://[::1]:81/x");
  ASSERT_EQ(p.error, Result::ok);
  EXPECT_TRUE(p.url.ipv6_literal);
  EXPECT_EQ(p.url.host, "::1");
  EXPECT_EQ(p.url.port, 81);
}

TEST(Url, HttpsDefaultsTo443) {
  auto p = parse_url("HTTPS://example.org/x");
  ASSERT_EQ(p.error, Result::ok);
  EXPECT_TRUE(p.url.tls);
  EXPECT_EQ(p.url.port, 443);
  p = parse_url("https://[::1]:8443/");
  ASSERT_EQ(p.error, Result::ok);
  EXPECT_TRUE(p.url.tls);
  EXPECT_EQ(p.url.port, 8443);
  EXPECT_FALSE(parse_url("http://x/").url.tls);
}

TEST(Url, RefusesWhatItCannotHandle) {
  struct Case {
    const char* url;
    Result want;
  } cases[] = {
      {"gopher://x/", Result::unsupported_protocol},
      {"ftp://x/", Result::unsupported_protocol},
      {"x/", Result::url_malformed},
      {"http:///a", Result::url_malformed},
      {"http://h:0/", Result::url_malformed},
      {"http://h:65536/", Result::url_malformed},
      {"http://h:8x/", Result::url_malformed},
      {"http://h:/", Result::url_malformed},
      {"http://[::1/", Result::url_malformed},
      {"http://[zz]/", Result::url_malformed},
      {"http://u@h/", Result::url_malformed},
      {"http://h/a b", Result::url_malformed},
      {"http://h/a\r\nX: y", Result::url_malformed},
      {"http://h o/", Result::url_malformed},
  };
  for (const auto& c : cases) {
    auto p = parse_url(c.url);
    EXPECT_EQ(p.error, c.want) << c.url;
    EXPECT_FALSE(p.detail.empty()) << c.url;
  }
}

}  // namespace
}  // namespace msb::detail
