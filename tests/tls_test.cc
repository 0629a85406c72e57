// https:// through the multi_socket contract, on every backend, against the built-in
// server's TLS listeners (a certificate made for the test) and sockets that misbehave
// before or during the handshake.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "cert_dir.h"
#include "drivers.h"
#include "server_process.h"
#include "trickle_server.h"

namespace msb {
namespace {

server::ServerOptions https_options(const server::TlsFiles& files,
                                    std::vector<std::string> addresses = {"127.0.0.1"}) {
  server::ServerOptions o;
  o.addresses = std::move(addresses);
  o.port_count = 1;  // one plain port, then one https port
  o.tls_port_count = 1;
  o.tls = files;
  return o;
}

// A listening socket that never accepts: connects complete in the kernel, and nobody ever
// answers the ClientHello.
struct SilentListener {
  SilentListener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), len);
    ::listen(fd, 16);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd); }
  int fd = -1;
  std::uint16_t port = 0;
};

class Tls : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { srv_.start_thread(); }

  const server::Endpoint& https() const { return srv_.endpoints()[1]; }

  MultiOptions trusting() const {
    MultiOptions o;
    o.tls.ca_file = certs_.files.cert_file;
    return o;
  }

  Done fetch(test::LoopDriver& driver, const std::string& url) {
    TransferSpec s;
    s.url = url;
    s.total_timeout_ms = 10000;
    s.connect_timeout_ms = 5000;
    EXPECT_TRUE(driver.multi().add(s));
    EXPECT_TRUE(driver.run(std::chrono::seconds(10)));
    EXPECT_FALSE(driver.done.empty());
    return driver.done.empty() ? Done{} : driver.done.back();
  }

  test::CertDir certs_;
  server::TrickleServer srv_{https_options(certs_.files)};
};

TEST_P(Tls, VerifiedTransfersOfEveryShape) {
  ASSERT_TRUE(https().tls);
  test::LoopDriver driver(trusting(), GetParam());
  const std::pair<const char*, std::uint64_t> cases[] = {
      {"/bytes/0", 0},
      {"/bytes/100", 100},
      {"/bytes/1000000", 1000000},
      {"/chunked/70000/999", 70000},
      {"/close/5000", 5000},
      {"/status/204", 0},
  };
  for (const auto& [path, bytes] : cases) {
    const Done d = fetch(driver, https().url(path));
    EXPECT_EQ(d.result, Result::ok)
        << path << ": " << result_name(d.result) << " " << tls_reason(d);
    EXPECT_EQ(d.body_bytes, bytes) << path;
    EXPECT_GE(d.timings.tls_us, d.timings.connect_us) << path;
    EXPECT_LE(d.timings.tls_us, d.timings.total_us) << path;
  }
  const MultiStats s = driver.multi().stats();
  EXPECT_EQ(s.tls_handshakes, s.connections_opened);
  EXPECT_EQ(s.tls_ns.count(), s.tls_handshakes);
  EXPECT_EQ(srv_.stats().tls_handshakes, s.tls_handshakes);
}

TEST_P(Tls, KeepAliveReusesTheTlsConnection) {
  test::LoopDriver driver(trusting(), GetParam());
  EXPECT_FALSE(fetch(driver, https().url("/bytes/10")).reused_connection);
  for (int i = 0; i < 4; ++i) {
    const Done d = fetch(driver, https().url("/bytes/10"));
    EXPECT_EQ(d.result, Result::ok) << result_name(d.result);
    EXPECT_TRUE(d.reused_connection);
  }
  EXPECT_EQ(driver.multi().stats().connections_opened, 1u);
  EXPECT_EQ(srv_.stats().tls_handshakes, 1u);
  // An https:// origin is not the same as the http:// one on the same host: no sharing.
  const Done plain = fetch(driver, srv_.endpoints()[0].url("/bytes/10"));
  EXPECT_EQ(plain.result, Result::ok);
  EXPECT_FALSE(plain.reused_connection);
}

// Pipelined responses arrive as records back to back: one recv reads several ahead into
// OpenSSL, which hands them out one SSL_read at a time. The rest is in no socket, so no poll
// announces it: the transport says `more` and the engine reads on (without that, the loop
// waited for its total timeout).
TEST_P(Tls, RecordsReadAheadAreDeliveredWithoutAnotherPoll) {
  test::LoopDriver driver(trusting(), GetParam());
  TransferSpec s;
  s.url = https().url("/bytes/10");
  s.requests = 40;
  s.pipeline = 20;
  s.total_timeout_ms = 3000;
  ASSERT_TRUE(driver.multi().add(s));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  ASSERT_EQ(driver.done.size(), 1u);
  EXPECT_EQ(driver.done[0].result, Result::ok) << result_name(driver.done[0].result);
  EXPECT_EQ(driver.done[0].responses, 40u);
  EXPECT_EQ(driver.done[0].body_bytes, 400u);
}

// Counts sends, and makes the `would_block_at`-th (from 1; 0: none) fail with EAGAIN once.
struct SendsThatBlock : SysCalls {
  SysResult send(int fd, const void* data, std::size_t n, int flags) override {
    if (++sends == would_block_at) return {-1, EAGAIN};
    return SysCalls::send(fd, data, n, flags);
  }
  int sends = 0;
  int would_block_at = 0;
};

// The server asks for a TLS 1.3 key update before its response. OpenSSL's client reads it
// with the response and answers with its own KeyUpdate at its next write: the next request
// on the kept-alive connection takes one send more than without it. When that send would
// block, the request waits for the socket to be writable (one more turn to out) and both
// go out then; every response arrives whole.
TEST_P(Tls, AKeyUpdateIsAnsweredWithTheNextRequest) {
  auto run = [&](const std::string& first_path, int would_block_at) {
    SendsThatBlock sys;
    sys.would_block_at = would_block_at;
    MultiOptions o = trusting();
    o.sys = &sys;
    o.tls.session_resumption = false;  // the same full handshake every run
    int outs = 0;
    o.socket_fn = [&](int, int what, void*) { return outs += (what & kPollOut) != 0, 0; };
    test::LoopDriver driver(o, GetParam());
    const Done first = fetch(driver, https().url(first_path));
    const Done second = fetch(driver, https().url("/bytes/10"));
    EXPECT_EQ(first.result, Result::ok) << result_name(first.result) << " " << tls_reason(first);
    EXPECT_EQ(first.body_bytes, 5000u);
    EXPECT_EQ(second.result, Result::ok) << result_name(second.result) << " " << tls_reason(second);
    EXPECT_EQ(second.body_bytes, 10u);
    EXPECT_TRUE(second.reused_connection);
    return std::pair{sys.sends, outs};
  };
  const auto [plain_sends, plain_outs] = run("/bytes/5000", 0);
  const auto [update_sends, update_outs] = run("/key_update/5000", 0);
  EXPECT_EQ(update_sends, plain_sends + 1) << "the client's KeyUpdate";
  EXPECT_EQ(update_outs, plain_outs);
  // The KeyUpdate's send (the one before the second request's) would block.
  const auto [blocked_sends, blocked_outs] = run("/key_update/5000", update_sends - 1);
  EXPECT_EQ(blocked_sends, update_sends + 1);
  EXPECT_EQ(blocked_outs, update_outs + 1);
}

TEST_P(Tls, ReconnectsResumeTheSession) {
  MultiOptions o = trusting();
  o.max_cached_connections = 0;  // every transfer a new connection
  test::LoopDriver driver(o, GetParam());
  for (int i = 0; i < 4; ++i) {
    const Done d = fetch(driver, https().url("/bytes/10"));
    EXPECT_EQ(d.result, Result::ok) << result_name(d.result) << " " << tls_reason(d);
  }
  const MultiStats s = driver.multi().stats();
  EXPECT_EQ(s.tls_handshakes, 4u);
  EXPECT_GE(s.tls_resumed, 3u);  // all but the first
  EXPECT_EQ(srv_.stats().tls_resumed, s.tls_resumed);

  // Several connections at once, round after round: each resumes, not only the first to take
  // the origin's session (OpenSSL marks a TLS 1.3 session used once it has served).
  test::LoopDriver together(o, GetParam());
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4; ++i) {
      TransferSpec spec;
      spec.url = https().url("/bytes/10");
      ASSERT_TRUE(together.multi().add(spec));
    }
    ASSERT_TRUE(together.run(std::chrono::seconds(10)));
  }
  EXPECT_EQ(together.multi().stats().tls_handshakes, 12u);
  EXPECT_EQ(together.multi().stats().tls_resumed, 8u);  // the first round's are full

  MultiOptions off = o;
  off.tls.session_resumption = false;
  test::LoopDriver full(off, GetParam());
  for (int i = 0; i < 3; ++i) fetch(full, https().url("/bytes/10"));
  EXPECT_EQ(full.multi().stats().tls_resumed, 0u);
}

TEST_P(Tls, ManyConcurrentHandshakes) {
  test::LoopDriver driver(trusting(), GetParam());
  const int n = test::fit_to_backend(GetParam(), 200);
  for (int i = 0; i < n; ++i) {
    TransferSpec s;
    s.url = https().url("/bytes/3000");
    s.total_timeout_ms = 20000;
    ASSERT_TRUE(driver.multi().add(s));
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(30)));
  ASSERT_EQ(driver.done.size(), static_cast<std::size_t>(n));
  for (const Done& d : driver.done) {
    EXPECT_EQ(d.result, Result::ok) << result_name(d.result) << " " << tls_reason(d);
    EXPECT_EQ(d.body_bytes, 3000u);
  }
}

TEST_P(Tls, AnUnknownCaIsNotTrustedUnlessInsecure) {
  test::LoopDriver strict({}, GetParam());  // the system's CAs: not the test's
  const Done d = fetch(strict, https().url("/bytes/10"));
  EXPECT_EQ(d.result, Result::tls_cert_untrusted) << result_name(d.result);
  EXPECT_NE(tls_reason(d).find("certificate verify failed"), std::string::npos) << tls_reason(d);
  EXPECT_NE(d.tls_verify, 0);

  MultiOptions insecure;
  insecure.tls.verify_peer = false;
  test::LoopDriver lax(insecure, GetParam());
  EXPECT_EQ(fetch(lax, https().url("/bytes/10")).result, Result::ok);
}

TEST_P(Tls, ACertificateForAnotherAddressIsANameMismatch) {
  // The certificate names 127.0.0.1, ::1 and localhost; the server listens on 127.0.0.2.
  server::TrickleServer other(https_options(certs_.files, {"127.0.0.2"}));
  other.start_thread();
  test::LoopDriver driver(trusting(), GetParam());
  const Done d = fetch(driver, other.endpoints()[1].url("/bytes/10"));
  EXPECT_EQ(d.result, Result::tls_name_mismatch) << result_name(d.result);
  EXPECT_NE(tls_reason(d).find("mismatch"), std::string::npos) << tls_reason(d);
  // By name, through the certificate's DNS entry.
  const Done by_name =
      fetch(driver, "https://localhost:" + std::to_string(https().port) + "/bytes/10");
  EXPECT_EQ(by_name.result, Result::ok)
      << result_name(by_name.result) << " " << tls_reason(by_name);
}

TEST_P(Tls, PlainHttpWhereTlsWasExpectedIsARecordError) {
  test::LoopDriver driver(trusting(), GetParam());
  const std::string url =
      "https://127.0.0.1:" + std::to_string(srv_.endpoints()[0].port) + "/bytes/10";
  const Done d = fetch(driver, url);  // the plain port answers the ClientHello with a 400
  EXPECT_EQ(d.result, Result::tls_record_error) << result_name(d.result);
  EXPECT_NE(tls_reason(d).find("wrong version number"), std::string::npos) << tls_reason(d);
  // The reverse: http:// to the https:// port. The server's handshake fails on the request
  // and it closes; the server carries on.
  const std::string reverse = "http://127.0.0.1:" + std::to_string(https().port) + "/bytes/10";
  EXPECT_NE(fetch(driver, reverse).result, Result::ok);
  EXPECT_EQ(fetch(driver, https().url("/bytes/10")).result, Result::ok);
  EXPECT_GE(srv_.stats().tls_handshake_failed, 1u);
}

TEST_P(Tls, AClosedOrSilentPeerFailsTheHandshake) {
  test::LoopDriver driver(trusting(), GetParam());
  SilentListener silent;
  {
    // Closed at once, without a byte. (RawServer waits for a request head, which a
    // ClientHello never is.)
    int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&a), len), 0);
    ASSERT_EQ(::listen(l, 4), 0);
    ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
    std::thread accept_close([l] {
      const int c = ::accept(l, nullptr, nullptr);
      if (c >= 0) ::close(c);
    });
    const Done d = fetch(driver, "https://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/");
    accept_close.join();
    ::close(l);
    EXPECT_EQ(d.result, Result::tls_handshake_failed) << result_name(d.result);
  }
  TransferSpec s;
  s.url = "https://127.0.0.1:" + std::to_string(silent.port) + "/";
  s.connect_timeout_ms = 300;
  ASSERT_TRUE(driver.multi().add(s));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  const Done& d = driver.done.back();
  EXPECT_EQ(d.result, Result::timed_out) << result_name(d.result);
  EXPECT_EQ(d.expired, Expired::tls_handshake) << expired_name(d.expired);
  EXPECT_GE(d.timings.connect_us, 0);
  EXPECT_LT(d.timings.tls_us, 0);  // never done
}

TEST_P(Tls, ABadCaFileIsRefusedAtAdd) {
  MultiOptions o;
  o.tls.ca_file = "/nonexistent/ca.pem";
  test::LoopDriver driver(o, GetParam());
  TransferSpec s;
  s.url = https().url("/");
  const AddResult r = driver.multi().add(s);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error, Result::bad_option);
  EXPECT_NE(r.detail.find("/nonexistent/ca.pem"), std::string::npos) << r.detail;
  // Plain transfers are not affected.
  EXPECT_EQ(fetch(driver, srv_.endpoints()[0].url("/bytes/1")).result, Result::ok);
}

// A ClientHello as OpenSSL's client writes it, taken from a memory BIO.
std::string client_hello() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);  // wants the ServerHello; the ClientHello is in `out`
  char* data = nullptr;
  const long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<std::size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

// Clients that send their ClientHello and close at once (what a client does when its own
// handshake fails, e.g. out of memory): the server's ServerHello draws a reset, and the
// alert it sends on the EOF after that raised SIGPIPE, which ended the server (OpenSSL's
// socket BIO writes with write(), not send(MSG_NOSIGNAL)).
TEST(TlsServer, ClientsClosingMidHandshakeDoNotStopIt) {
  test::CertDir certs;
  server::ServerProcess srv(https_options(certs.files));
  const server::Endpoint& https = srv.endpoints()[1];
  const std::string hello = client_hello();
  ASSERT_GT(hello.size(), 100u);
  for (int i = 0; i < 20; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(https.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(hello.size()));
    ::close(fd);
  }
  MultiOptions o;
  o.tls.ca_file = certs.files.cert_file;
  test::LoopDriver driver(o, "epoll");
  TransferSpec s;
  s.url = https.url("/bytes/10");
  s.total_timeout_ms = 5000;
  ASSERT_TRUE(driver.multi().add(s));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  ASSERT_EQ(driver.done.size(), 1u);
  EXPECT_EQ(driver.done[0].result, Result::ok) << result_name(driver.done[0].result);
}

INSTANTIATE_TEST_SUITE_P(Backends, Tls, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
