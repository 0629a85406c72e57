#include "server_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

namespace msb::server {

namespace {

TrickleServer* g_child_server = nullptr;

void stop_child_server(int) {
  if (g_child_server) g_child_server->request_stop();  // an atomic store and a write()
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void child_main(const ServerOptions& options, int out) {
  raise_fd_limit();
  if (options.fd_limit > 0) {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = static_cast<rlim_t>(options.fd_limit);
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (options.address_space_limit > 0) {
    const rlimit rl{options.address_space_limit, options.address_space_limit};
    setrlimit(RLIMIT_AS, &rl);
  }
  std::string report;
  try {
    TrickleServer srv(options);
    for (const auto& e : srv.endpoints())
      report += e.address + " " + std::to_string(e.port) + (e.tls ? " tls " : " plain ") +
                (e.fault.empty() ? "-" : e.fault) + "\n";
    g_child_server = &srv;
    struct sigaction sa {};
    sa.sa_handler = stop_child_server;
    sigaction(SIGTERM, &sa, nullptr);
    // Ctrl-C reaches the whole process group: the server keeps serving until the runner,
    // done with its teardown, stops it, so an interrupted run ends cleanly, not in errors.
    signal(SIGINT, SIG_IGN);
    write_all(out, report);
    ::close(out);
    srv.run();
    g_child_server = nullptr;
    _exit(0);
  } catch (const std::exception& e) {
    write_all(out, std::string("error ") + e.what() + "\n");
    _exit(1);
  }
}

}  // namespace

void terminate_with_parent(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(1);  // it died before the line above
}

long raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  return static_cast<long>(rl.rlim_cur);
}

ServerProcess::ServerProcess(const ServerOptions& options) {
  int p[2];
  if (::pipe(p) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    terminate_with_parent(parent);
    ::close(p[0]);
    child_main(options, p[1]);
  }
  ::close(p[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  ::close(p[0]);
  std::istringstream lines(text);
  std::string word;
  while (lines >> word) {
    if (word == "error") {
      std::string rest;
      std::getline(lines, rest);
      stop();
      throw std::runtime_error("built-in server:" + rest);
    }
    int port = 0;
    std::string kind, fault;
    lines >> port >> kind >> fault;
    endpoints_.push_back(
        {word, static_cast<std::uint16_t>(port), kind == "tls", fault == "-" ? "" : fault});
  }
  if (endpoints_.empty()) {
    stop();
    throw std::runtime_error("built-in server exited without listening");
  }
}

ServerProcess::~ServerProcess() {
  stop();
}

void ServerProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace msb::server
