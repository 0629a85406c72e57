#include <gtest/gtest.h>

#include "http1/request.h"

namespace msb::detail {
namespace {

std::string built(const Url& url, bool head, std::string_view extra) {
  RequestHead h;
  h.url = &url;
  h.method = head ? "HEAD" : "";
  h.extra_headers = extra;
  std::string out;
  append_request_head(out, h);
  return out;
}

Url url(const char* text) {
  return parse_url(text).url;
}

// The same request shares one text; anything that changes the bytes makes a new one, equal
// to what append_request_head() builds for it.
TEST(SharedRequestText, SharedWhenTheSameAndRebuiltWhenAnythingDiffers) {
  SharedRequestText shared;
  const auto first = shared.get(url("http://127.0.0.1:8080/a"), false, "");
  EXPECT_EQ(*first, built(url("http://127.0.0.1:8080/a"), false, ""));
  EXPECT_EQ(shared.get(url("http://127.0.0.1:8080/a"), false, ""), first);  // the same object
  const struct {
    const char* url;
    bool head;
    const char* extra;
  } variants[] = {
      {"http://127.0.0.1:8081/a", false, ""},         {"http://127.0.0.2:8080/a", false, ""},
      {"http://127.0.0.1:8080/b", false, ""},         {"http://127.0.0.1:8080/a", true, ""},
      {"http://127.0.0.1:8080/a", false, "X: 1\r\n"}, {"http://[::1]:8080/a", false, ""},
      {"http://127.0.0.1:8080/a", false, ""},
  };
  for (const auto& v : variants) {
    SCOPED_TRACE(std::string(v.url) + (v.head ? " HEAD " : " GET ") + v.extra);
    const auto text = shared.get(url(v.url), v.head, v.extra);
    EXPECT_EQ(*text, built(url(v.url), v.head, v.extra));
    EXPECT_EQ(shared.get(url(v.url), v.head, v.extra), text);
  }
  EXPECT_EQ(first.use_count(), 1);  // the first text was let go when another replaced it
}

}  // namespace
}  // namespace msb::detail
