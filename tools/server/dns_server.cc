#include "dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "server_process.h"

namespace msb::server {

namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// A port free for both UDP and TCP: dnsmasq listens on both.
std::uint16_t free_udp_tcp_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    ::bind(tcp, reinterpret_cast<sockaddr*>(&a), len);
    getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &len);
    const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const bool both = ::bind(udp, reinterpret_cast<sockaddr*>(&a), len) == 0;
    ::close(udp);
    ::close(tcp);
    if (both) return ntohs(a.sin_port);
  }
  throw std::runtime_error("no port free for both UDP and TCP");
}

// True once something is bound to the UDP port (our own bind then fails).
bool udp_port_taken(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(port);
  const bool taken =
      ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
  ::close(fd);
  return taken;
}

}  // namespace

Dnsmasq::Dnsmasq(const std::vector<std::pair<std::string, std::string>>& records, int ttl_s) {
  if (::access("/usr/sbin/dnsmasq", X_OK) != 0) {
    throw std::runtime_error("dnsmasq not found: install dnsmasq-base (bash tools/setup.sh)");
  }
  // A port can still be taken between choosing it and dnsmasq binding it: try a few.
  std::string why;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (start(records, ttl_s, &why)) return;
  }
  throw std::runtime_error(why);
}

bool Dnsmasq::start(const std::vector<std::pair<std::string, std::string>>& records, int ttl_s,
                    std::string* why) {
  port_ = free_udp_tcp_port();
  std::vector<std::string> args = {"/usr/sbin/dnsmasq",
                                   "--keep-in-foreground",
                                   "--conf-file=/dev/null",
                                   "--no-resolv",
                                   "--no-hosts",
                                   "--bind-interfaces",
                                   "--listen-address=127.0.0.1",
                                   "--port=" + std::to_string(port_),
                                   "--local=/msb.test/",
                                   "--pid-file=",
                                   "--user=root",
                                   "--log-facility=/dev/null",
                                   "--cache-size=0",
                                   "--local-ttl=" + std::to_string(ttl_s)};
  // Records go in a hosts file: a storm has thousands, too many for one command line.
  char path[] = "/tmp/msbench-dns-XXXXXX";
  const int hf = ::mkstemp(path);
  if (hf < 0) throw std::runtime_error("dnsmasq: cannot create its hosts file");
  std::string hosts;
  for (const auto& [name, ip] : records) hosts += ip + " " + name + "\n";
  [[maybe_unused]] ssize_t w = ::write(hf, hosts.data(), hosts.size());
  ::close(hf);
  hosts_file_ = path;
  args.push_back("--addn-hosts=" + hosts_file_);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    terminate_with_parent(parent);  // kept across exec: dnsmasq goes with its parent
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  // Ready when it holds its port; give up after 10 s.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!udp_port_taken(port_)) {
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ::unlink(hosts_file_.c_str());
      hosts_file_.clear();
      *why = "dnsmasq exited at start (status " + std::to_string(status) + ")";
      return false;
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("dnsmasq did not start");
    std::this_thread::sleep_for(
        std::chrono::milliseconds(5));  // polling a port, not waiting on a result
  }
  return true;
}

Dnsmasq::~Dnsmasq() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  if (!hosts_file_.empty()) ::unlink(hosts_file_.c_str());
}

SilentDns::SilentDns() {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0) {
    throw std::runtime_error("silent DNS: bind failed");
  }
  getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
}

SilentDns::~SilentDns() {
  ::close(fd_);
}

}  // namespace msb::server
