// The registry: every backend msbench can drive a Multi with, one row each.
#include <sys/select.h>

#include <stdexcept>

#include "msb/backend.h"

namespace msb {

std::unique_ptr<Backend> make_select_loop();
std::unique_ptr<Backend> make_poll_loop();
std::unique_ptr<Backend> make_epoll_loop();
std::unique_ptr<Backend> make_io_uring_loop();
std::unique_ptr<Backend> make_libev_loop();
std::unique_ptr<Backend> make_perform_driver();

const std::vector<BackendInfo>& backends() {
  static const std::vector<BackendInfo> table = {
      {"select", make_select_loop, FD_SETSIZE, true,
       "select(): fds below FD_SETSIZE only, O(max fd) per wait"},
      {"poll", make_poll_loop, 0, true, "poll(): a dense pollfd array, O(n) per wait"},
      {"epoll", make_epoll_loop, 0, true, "epoll_wait(), level-triggered: O(ready) per wait"},
      {"io_uring", make_io_uring_loop, 0, true,
       "io_uring: one-shot poll requests, re-armed and changed in the submission that waits"},
      {"libev", make_libev_loop, 0, true, "Debian's libev: its own io watchers and timer"},
      {"perform", make_perform_driver, 0, false,
       "the legacy driver: fdset()/pollset() + select()/poll(), then perform() over every "
       "transfer"},
  };
  return table;
}

const BackendInfo* find_backend(const std::string& name) {
  for (const auto& b : backends()) {
    if (name == b.name) return &b;
  }
  return nullptr;
}

std::vector<std::string> backend_names() {
  std::vector<std::string> out;
  for (const auto& b : backends()) out.emplace_back(b.name);
  return out;
}

std::string backend_unavailable(const std::string& name) {
  try {
    make_backend(name);
    return "";
  } catch (const std::runtime_error& e) {
    return e.what();
  }
}

std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (const BackendInfo* b = find_backend(name)) return b->make();
  std::string known;
  for (const auto& n : backend_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown backend '" + name + "' (known: " + known + ")");
}

}  // namespace msb
