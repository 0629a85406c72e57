// The libcurl functions the reference engine calls, from the libcurl msbench is linked with
// or from another build given by path (`libcurl = "/opt/curl/lib/libcurl.so.4"` in a
// scenario), loaded on its own with dlopen, so that two libcurl builds (before and after a
// change to libcurl) are measured in one run beside msbench and the floor.
//
// Members are named without the curl_ prefix: curl.h's type-checking macros (GCC) would
// otherwise rewrite `api.curl_easy_setopt(...)`.
#pragma once

#include <curl/curl.h>

#include <string>

namespace msb::cli {

#define MSB_CURL_FUNCTIONS(X)                      \
  X(global_init, curl_global_init)                 \
  X(global_cleanup, curl_global_cleanup)           \
  X(version_info, curl_version_info)               \
  X(easy_init, curl_easy_init)                     \
  X(easy_cleanup, curl_easy_cleanup)               \
  X(easy_setopt, curl_easy_setopt)                 \
  X(easy_getinfo, curl_easy_getinfo)               \
  X(multi_init, curl_multi_init)                   \
  X(multi_cleanup, curl_multi_cleanup)             \
  X(multi_setopt, curl_multi_setopt)               \
  X(multi_add_handle, curl_multi_add_handle)       \
  X(multi_remove_handle, curl_multi_remove_handle) \
  X(multi_assign, curl_multi_assign)               \
  X(multi_info_read, curl_multi_info_read)         \
  X(multi_socket_action, curl_multi_socket_action) \
  X(slist_append, curl_slist_append)               \
  X(slist_free_all, curl_slist_free_all)

struct CurlApi {
#define MSB_CURL_MEMBER(member, function) decltype(&::function) member = nullptr;
  MSB_CURL_FUNCTIONS(MSB_CURL_MEMBER)
#undef MSB_CURL_MEMBER
  std::string path;     // "" for the linked one
  std::string version;  // curl_version_info()->version, e.g. "7.88.1"
};

// The API of the libcurl at `path` ("": the linked one). Loaded once per path and kept for
// the life of the process. Throws std::runtime_error naming the path and what failed (the
// loader's message, or the first missing function).
const CurlApi& curl_api(const std::string& path);

}  // namespace msb::cli
