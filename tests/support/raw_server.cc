#include "raw_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace msb::test {

namespace {

int listen_loopback(int backlog, std::uint16_t* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
      ::listen(fd, backlog) != 0) {
    throw std::runtime_error(std::string("test listener: ") + std::strerror(errno));
  }
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

}  // namespace

RawServer::RawServer(std::function<RawReply(const std::string&)> reply) : reply_(std::move(reply)) {
  listener_ = listen_loopback(1024, &port_);
  wake_ = eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { serve(); });
}

RawServer::~RawServer() {
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t w = ::write(wake_, &one, sizeof one);
  thread_.join();
  for (int fd : held_) ::close(fd);
  ::close(listener_);
  ::close(wake_);
}

std::vector<RawServer::Received> RawServer::received() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_;
}

std::string RawServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void RawServer::serve() {
  for (;;) {
    pollfd p[2] = {{listener_, POLLIN, 0}, {wake_, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) continue;
    if (p[1].revents) return;
    sockaddr_in peer{};
    socklen_t peer_len = sizeof peer;
    const int fd =
        ::accept4(listener_, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++accepted_;
    // Read the request head and a Content-Length body, waiting at most 5 s for each read.
    std::string req;
    char buf[65536];
    auto read_more = [&] {
      pollfd r{fd, POLLIN, 0};
      if (::poll(&r, 1, 5000) <= 0) return false;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      req.append(buf, static_cast<std::size_t>(n));
      return true;
    };
    while (req.find("\r\n\r\n") == std::string::npos && read_more()) {
    }
    const auto head_end = req.find("\r\n\r\n");
    const auto cl = req.find("\r\nContent-Length: ");
    if (head_end != std::string::npos && cl != std::string::npos && cl < head_end) {
      const std::size_t want = head_end + 4 + std::stoul(req.substr(cl + 18));
      while (req.size() < want && read_more()) {
      }
    }
    {
      char ip[INET_ADDRSTRLEN] = {};
      inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
      std::lock_guard<std::mutex> lock(mutex_);
      received_.push_back({req, ip});
    }
    const auto sp1 = req.find(' ');
    const auto sp2 = req.find(' ', sp1 + 1);
    const std::string path = sp1 == std::string::npos ? "" : req.substr(sp1 + 1, sp2 - sp1 - 1);
    const RawReply r = reply_(path);
    std::size_t off = 0;
    while (off < r.bytes.size()) {
      const ssize_t n = ::send(fd, r.bytes.data() + off, r.bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    if (r.then == RawReply::Then::hold) {
      held_.push_back(fd);
      continue;
    }
    if (r.then == RawReply::Then::reset) {
      const linger l{1, 0};  // close with RST instead of FIN
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::close(fd);
  }
}

BlackholeListener::BlackholeListener() {
  listener_ = listen_loopback(0, &port_);
  // Backlog 0 still admits one connection into the accept queue: fill it.
  filler_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port_);
  if (::connect(filler_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    throw std::runtime_error("blackhole filler connect failed");
  }
}

BlackholeListener::~BlackholeListener() {
  ::close(filler_);
  ::close(listener_);
}

std::string BlackholeListener::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/";
}

std::uint16_t closed_port() {
  std::uint16_t port = 0;
  const int fd = listen_loopback(1, &port);
  ::close(fd);  // nothing listens there now
  return port;
}

}  // namespace msb::test
