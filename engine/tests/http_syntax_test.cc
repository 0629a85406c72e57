// token_is against a byte-by-byte model: every length from 1 to 24 (below, at and across
// its 8-byte words), each byte's case flipped and each byte changed in turn.
#include "msb/http_syntax.h"

#include <gtest/gtest.h>

#include <string>

namespace msb {
namespace {

bool model(std::string_view token, std::string_view lowercase) {
  return iequals(token, lowercase);
}

TEST(HttpSyntax, TokenIsMatchesAByteByByteComparison) {
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-";
  for (std::size_t n = 1; n <= 24; ++n) {
    std::string lowercase;
    for (std::size_t i = 0; i < n; ++i) lowercase += alphabet[(i * 7 + n) % alphabet.size()];
    EXPECT_TRUE(token_is(lowercase, lowercase)) << lowercase;
    EXPECT_FALSE(token_is(lowercase + "x", lowercase));
    EXPECT_FALSE(token_is(lowercase.substr(1), lowercase));
    for (std::size_t i = 0; i < n; ++i) {
      std::string upper = lowercase;
      upper[i] = static_cast<char>(lower(static_cast<unsigned char>(upper[i])) == upper[i] &&
                                           upper[i] >= 'a' && upper[i] <= 'z'
                                       ? upper[i] - 32
                                       : upper[i]);
      EXPECT_TRUE(token_is(upper, lowercase)) << upper;
      for (char c : std::string("!#$%&'*+.^_`|~AZaz09-")) {
        std::string changed = lowercase;
        changed[i] = c;
        EXPECT_EQ(token_is(changed, lowercase), model(changed, lowercase))
            << changed << " vs " << lowercase;
      }
    }
  }
}

}  // namespace
}  // namespace msb
