#include "engine.h"

#include <stdexcept>

namespace msb::cli {

std::vector<std::string> engine_names() {
  return {"msbench", "libcurl", "floor"};
}

bool engine_built(const std::string& name) {
#ifdef MSB_HAVE_LIBCURL
  if (name == "libcurl") return true;
#else
  if (name == "libcurl") return false;
#endif
  return name == "msbench" || name == "floor";
}

std::string engine_backend_conflict(const std::string& engine, const std::string& backend) {
  const BackendInfo* b = find_backend(backend);
  if (engine != "msbench" && b && !b->callbacks) {
    std::string callback_backends;
    for (const auto& x : backends()) {
      if (x.callbacks)
        callback_backends += (callback_backends.empty() ? "" : ", ") + std::string(x.name);
    }
    return "engine '" + engine + "' runs on a callback backend (" + callback_backends + "); '" +
           backend + "' drives msbench's own engine only";
  }
  return "";
}

std::unique_ptr<Engine> make_engine(const std::string& name, Backend& backend,
                                    const MultiOptions& options, const std::string& dns_server,
                                    const std::string& libcurl) {
  const std::string conflict = engine_backend_conflict(name, backend.name());
  if (!conflict.empty()) throw std::runtime_error(conflict);
  if (name == "msbench") return make_msbench_engine(backend, options);
  if (name == "floor") return make_floor_engine(*backend.loop(), options.tls);
  if (name == "libcurl") {
#ifdef MSB_HAVE_LIBCURL
    return make_libcurl_engine(*backend.loop(), dns_server, libcurl, options.tls);
#else
    (void)dns_server;
    (void)libcurl;
    throw std::runtime_error(
        "engine 'libcurl': this msbench was built without libcurl "
        "(install libcurl4-openssl-dev and rebuild)");
#endif
  }
  throw std::runtime_error("unknown engine '" + name + "'");
}

}  // namespace msb::cli
