// A scripted loopback server for fault tests: for each connection it reads one request,
// asks the test what to answer, writes exactly those bytes and then closes, resets or
// holds the connection open. Hostile replies that no real server would send come from here.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace msb::test {

struct RawReply {
  enum class Then { close, reset, hold };
  std::string bytes;
  Then then = Then::close;
};

class RawServer {
 public:
  // `reply` gets the request's path; called on the server's thread.
  explicit RawServer(std::function<RawReply(const std::string& path)> reply);
  ~RawServer();
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;
  int accepted() const { return accepted_.load(); }

  // Every request read so far, whole (head and Content-Length body), with the client's
  // address, in arrival order.
  struct Received {
    std::string request;
    std::string peer;
  };
  std::vector<Received> received() const;

 private:
  void serve();
  std::function<RawReply(const std::string&)> reply_;
  int listener_ = -1;
  int wake_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  mutable std::mutex mutex_;
  std::vector<Received> received_;
  std::vector<int> held_;
  std::thread thread_;
};

// A listener whose accept queue is full and which never accepts: further connects stay in
// SYN_SENT (the kernel drops their SYNs), which is how a handshake that never completes
// looks on loopback.
class BlackholeListener {
 public:
  BlackholeListener();
  ~BlackholeListener();
  std::string url() const;

 private:
  int listener_ = -1;
  int filler_ = -1;
  std::uint16_t port_ = 0;
};

// A loopback port with nothing listening (connect gets ECONNREFUSED).
std::uint16_t closed_port();

}  // namespace msb::test
