// HTTP's ASCII character classes (RFC 9110 §5.6.2), shared by the engine's response parser
// and request writer and the built-in server's request parser. ASCII only, on purpose: <cctype>
// depends on the locale and costs a call per byte.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace msb {

constexpr bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
constexpr bool is_alpha(unsigned char c) {
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}
constexpr unsigned char lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
//       / DIGIT / ALPHA, as a table: one load per byte on the hot path.
struct TcharTable {
  bool is[256] = {};
  constexpr TcharTable() {
    for (int c = 0; c < 256; ++c) {
      is[c] = is_digit(static_cast<unsigned char>(c)) || is_alpha(static_cast<unsigned char>(c));
    }
    for (const char* p = "!#$%&'*+-.^_`|~"; *p; ++p) is[static_cast<unsigned char>(*p)] = true;
  }
};
inline constexpr TcharTable kTchar;

inline bool is_tchar(unsigned char c) {
  return kTchar.is[c];
}

inline bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

// `token` equals `lowercase`, ignoring ASCII case, where `lowercase` holds only lowercase
// letters, digits and '-': then OR-ing 0x20 into a token's byte lowers it and maps no other
// tchar onto one of those.
// Eight bytes at a time (the last word overlapping the one before): a field name costs a
// few instructions rather than seven per byte.
inline bool token_is(std::string_view token, std::string_view lowercase) {
  const std::size_t n = token.size();
  if (n != lowercase.size()) return false;
  if (n < 8) {
    unsigned char diff = 0;
    for (std::size_t i = 0; i < n; ++i) {
      diff |= static_cast<unsigned char>((static_cast<unsigned char>(token[i]) | 0x20) ^
                                         static_cast<unsigned char>(lowercase[i]));
    }
    return diff == 0;
  }
  constexpr std::uint64_t kLower = 0x2020202020202020ull;
  std::uint64_t diff = 0;
  auto word = [](const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
  };
  for (std::size_t i = 0; i + 8 < n; i += 8) {
    diff |= (word(token.data() + i) | kLower) ^ word(lowercase.data() + i);
  }
  diff |= (word(token.data() + n - 8) | kLower) ^ word(lowercase.data() + n - 8);
  return diff == 0;
}

inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower(static_cast<unsigned char>(x)) == lower(static_cast<unsigned char>(y));
         });
}

}  // namespace msb
