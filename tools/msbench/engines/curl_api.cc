#include "curl_api.h"

#include <dlfcn.h>

#include <map>
#include <memory>
#include <stdexcept>

namespace msb::cli {

namespace {

CurlApi linked() {
  CurlApi api;
#define MSB_CURL_LINKED(member, function) api.member = &::function;
  MSB_CURL_FUNCTIONS(MSB_CURL_LINKED)
#undef MSB_CURL_LINKED
  return api;
}

CurlApi loaded(const std::string& path) {
  // RTLD_LOCAL: its symbols stay out of the global scope, so the linked libcurl and this one
  // do not resolve each other's. (RTLD_DEEPBIND would also keep this one's own references
  // inside it, but the sanitizers refuse it; libcurl calls its internals by hidden names.)
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) throw std::runtime_error("libcurl '" + path + "': " + dlerror());
  CurlApi api;
#define MSB_CURL_LOAD(member, function)                                                    \
  api.member = reinterpret_cast<decltype(api.member)>(dlsym(lib, #function));              \
  if (!api.member) {                                                                       \
    dlclose(lib);                                                                          \
    throw std::runtime_error("libcurl '" + path + "': no " #function " (not a libcurl?)"); \
  }
  MSB_CURL_FUNCTIONS(MSB_CURL_LOAD)
#undef MSB_CURL_LOAD
  return api;  // the library stays loaded: its functions are used until the process ends
}

}  // namespace

const CurlApi& curl_api(const std::string& path) {
  static std::map<std::string, std::unique_ptr<CurlApi>> apis;
  auto it = apis.find(path);
  if (it == apis.end()) {
    auto api = std::make_unique<CurlApi>(path.empty() ? linked() : loaded(path));
    api->path = path;
    const curl_version_info_data* v = api->version_info(CURLVERSION_NOW);
    api->version = v && v->version ? v->version : "?";
    it = apis.emplace(path, std::move(api)).first;
  }
  return *it->second;
}

}  // namespace msb::cli
