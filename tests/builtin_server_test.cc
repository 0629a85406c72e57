// The built-in server as a sustained-load target: it streams bodies of any size without
// building them in memory, consumes request bodies, keeps HTTP/1.0 connections that ask,
// delays on request, and answers what it cannot frame with the right status and a close,
// while every other connection carries on.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "drivers.h"
#include "server_process.h"
#include "trickle_server.h"

namespace msb {
namespace {

// Literals with a NUL inside keep their full length ("...\0..."s).
using namespace std::string_literals;

// A client of its own on a raw, non-blocking socket: sends a request (whole, or one byte
// per pump()), and reads what comes back until the server closes.
class RawClient {
 public:
  RawClient(std::uint16_t port, std::string bytes, bool byte_by_byte)
      : bytes_(std::move(bytes)), byte_by_byte_(byte_by_byte) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::fcntl(fd_, F_SETFL, O_NONBLOCK);
  }
  ~RawClient() { ::close(fd_); }
  // Sends the next piece; false once everything is out.
  bool pump() {
    if (sent_ == bytes_.size()) return false;
    const std::size_t n = byte_by_byte_ ? 1 : bytes_.size() - sent_;
    const ssize_t w = ::send(fd_, bytes_.data() + sent_, n, MSG_NOSIGNAL);
    if (w > 0) sent_ += static_cast<std::size_t>(w);
    if (w < 0 && errno != EAGAIN) sent_ = bytes_.size();  // closed on us: nothing more to send
    return sent_ < bytes_.size();
  }
  // Reads until the server closes (or 5 s pass); returns everything read.
  std::string read_until_close() {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = n == 0 || errno == ECONNRESET;
        break;
      }
      got_.append(buf, static_cast<std::size_t>(n));
    }
    return got_;
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  std::string bytes_;
  bool byte_by_byte_;
  std::size_t sent_ = 0;
  std::string got_;
  bool closed_ = false;
};

struct Hostile {
  const char* name;
  std::string bytes;
  std::string answer;   // how the last response's status line starts
  int good_before = 0;  // complete 200 responses before it (a good request pipelined first)
};

const std::vector<Hostile>& hostile() {
  static const std::vector<Hostile> h = {
      {"no_host", "GET /bytes/1 HTTP/1.1\r\n\r\n", "HTTP/1.1 400"},
      {"smuggling_cl_te",
       "POST /bytes/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       "HTTP/1.1 400"},
      {"obs_fold", "GET /bytes/1 HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", "HTTP/1.1 400"},
      {"bad_length", "POST /bytes/1 HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
       "HTTP/1.1 400"},
      {"gzip_body", "POST /bytes/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
       "HTTP/1.1 501"},
      {"http2", "GET /bytes/1 HTTP/2.0\r\nHost: x\r\n\r\n", "HTTP/1.1 505"},
      {"long_line", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",
       "HTTP/1.1 414"},
      {"huge_head",
       "GET /bytes/1 HTTP/1.1\r\nHost: x\r\nX: " + std::string(70000, 'h') + "\r\n\r\n",
       "HTTP/1.1 431"},
      {"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s + "\r\n\r\n", "HTTP/1.1 400"},
      {"good_then_bad",
       "GET /bytes/3 HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
       "HTTP/1.1 400", 1},
  };
  return h;
}

class BuiltinServer : public ::testing::Test {
 protected:
  void SetUp() override {
    test::raise_fd_limit();
    srv_.start_thread();
  }
  std::uint16_t port() const { return srv_.endpoints()[0].port; }
  server::TrickleServer srv_{server::ServerOptions{}};
};

TEST_F(BuiltinServer, HostileRequestsAreRefusedWhileKeepAliveClientsCarryOn) {
  for (const bool byte_by_byte : {false, true}) {
    SCOPED_TRACE(byte_by_byte ? "byte by byte" : "whole");
    // Good clients: 20 connections, 200 keep-alive requests each.
    test::LoopDriver driver({}, "epoll");
    for (int i = 0; i < 20; ++i) {
      TransferSpec spec;
      spec.url = srv_.endpoints()[0].url("/bytes/100");
      spec.requests = 200;
      spec.total_timeout_ms = 30000;
      ASSERT_TRUE(driver.multi().add(spec));
    }
    std::vector<std::unique_ptr<RawClient>> bad;
    for (const Hostile& h : hostile())
      bad.push_back(std::make_unique<RawClient>(port(), h.bytes, byte_by_byte));
    // Interleave: every hostile client gets a piece per loop iteration.
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool sending = true;
    while ((driver.multi().running() > 0 || sending) && std::chrono::steady_clock::now() < end) {
      sending = false;
      for (auto& c : bad) sending = c->pump() || sending;
      driver.backend().run_once(sending ? 0 : 1);
      while (auto d = driver.multi().info_read()) driver.done.push_back(*d);
    }
    ASSERT_EQ(driver.done.size(), 20u);
    for (const Done& d : driver.done) {
      EXPECT_EQ(d.result, Result::ok) << result_name(d.result);
      EXPECT_EQ(d.responses, 200u);
      EXPECT_EQ(d.body_bytes, 200u * 100);
    }
    for (std::size_t i = 0; i < bad.size(); ++i) {
      const Hostile& h = hostile()[i];
      SCOPED_TRACE(h.name);
      const std::string got = bad[i]->read_until_close();
      EXPECT_TRUE(bad[i]->closed());
      const auto last = got.rfind("HTTP/1.1 ");
      ASSERT_NE(last, std::string::npos) << got.substr(0, 200);
      EXPECT_EQ(got.compare(last, h.answer.size(), h.answer), 0) << got.substr(last, 60);
      int good = 0;
      for (auto at = got.find("HTTP/1.1 200"); at != std::string::npos;
           at = got.find("HTTP/1.1 200", at + 1))
        ++good;
      EXPECT_EQ(good, h.good_before);
    }
  }
  EXPECT_EQ(srv_.stats().bad_requests, 2 * hostile().size());
}

TEST_F(BuiltinServer, RequestBodiesAreConsumedAndTheConnectionGoesOn) {
  test::LoopDriver driver({}, "epoll");
  TransferSpec post;
  post.url = srv_.endpoints()[0].url("/bytes/5");
  post.method = "POST";
  post.body = std::make_shared<const std::string>(100000, 'x');
  post.requests = 3;
  ASSERT_TRUE(driver.multi().add(post));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  ASSERT_EQ(driver.done.size(), 1u);
  EXPECT_EQ(driver.done[0].result, Result::ok);
  EXPECT_EQ(driver.done[0].responses, 3u);
  EXPECT_EQ(srv_.stats().accepted, 1u);
  EXPECT_EQ(srv_.stats().requests, 3u);
  EXPECT_EQ(srv_.stats().request_body_bytes, 300000u);
  // A chunked request body, then another request on the same connection.
  RawClient raw(
      port(),
      "POST /bytes/2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
      "GET /bytes/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      false);
  raw.pump();
  const std::string got = raw.read_until_close();
  EXPECT_EQ(got,
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\na");
  EXPECT_EQ(srv_.stats().request_body_bytes, 300003u);
}

TEST_F(BuiltinServer, Http10KeepsTheConnectionWhenAsked) {
  RawClient raw(port(),
                "GET /bytes/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                "GET /bytes/2 HTTP/1.0\r\n\r\n",
                false);
  raw.pump();
  EXPECT_EQ(raw.read_until_close(),
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\na"
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab");
  EXPECT_TRUE(raw.closed());
}

TEST_F(BuiltinServer, DelaysRunSideBySide) {
  test::LoopDriver driver({}, "epoll");
  for (int i = 0; i < 10; ++i) {
    TransferSpec spec;
    spec.url = srv_.endpoints()[0].url("/delay/150/4");
    ASSERT_TRUE(driver.multi().add(spec));
  }
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(driver.done.size(), 10u);
  for (const Done& d : driver.done) {
    EXPECT_EQ(d.result, Result::ok);
    EXPECT_EQ(d.body_bytes, 4u);
    EXPECT_GE(d.timings.total_us, 150'000);
  }
  EXPECT_LT(took, std::chrono::milliseconds(1000));  // not one after another (10 x 150 ms)
}

// A gigabyte streams through a server that may not hold even half of it: nothing is built
// in memory. (Not under AddressSanitizer, whose shadow memory alone is past any such limit.)
TEST(BuiltinServerMemory, AGigabyteStreamsUnderAFourHundredMegabyteLimit) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "RLIMIT_AS cannot be combined with AddressSanitizer's shadow memory";
#else
  server::ServerOptions o;
  o.address_space_limit = 400ull << 20;
  server::ServerProcess srv(o);
  test::LoopDriver driver({}, "epoll");
  TransferSpec spec;
  spec.url = srv.endpoints()[0].url("/bytes/1000000000");
  spec.total_timeout_ms = 60000;
  ASSERT_TRUE(driver.multi().add(spec));
  ASSERT_TRUE(driver.run(std::chrono::seconds(60)));
  ASSERT_EQ(driver.done.size(), 1u);
  EXPECT_EQ(driver.done[0].result, Result::ok) << result_name(driver.done[0].result);
  EXPECT_EQ(driver.done[0].body_bytes, 1'000'000'000u);
#endif
}

}  // namespace
}  // namespace msb
