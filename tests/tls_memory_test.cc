// What an idle https:// connection keeps: no 16 kB record buffer. OpenSSL's allocations go
// through counting functions (installed before OpenSSL allocates anything, so this test has
// its own main) that remember the live ones of a record buffer's size made on the client's
// thread; the built-in server runs on its own thread and is not counted.
#include <openssl/crypto.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <unordered_set>

#include <gtest/gtest.h>

#include "cert_dir.h"
#include "drivers.h"
#include "trickle_server.h"

namespace {

// A TLS record buffer is 16 kB of plaintext plus overhead; nothing else OpenSSL keeps per
// connection comes close (massif: the SSL object itself is 7.6 kB).
constexpr std::size_t kRecordBufferSize = 16 * 1024;

thread_local bool counted_thread = false;
std::mutex big_mutex;
// Live record-size allocations of counted threads, by address.
std::unordered_set<std::uintptr_t>* big = nullptr;
std::size_t big_peak = 0;

// Whether p was counted.
bool forget(std::uintptr_t p) {
  if (!p) return false;
  std::lock_guard lock(big_mutex);
  return big && big->erase(p) > 0;
}

void remember(void* p, std::size_t n) {
  if (!p || !counted_thread || n < kRecordBufferSize) return;
  std::lock_guard lock(big_mutex);
  big->insert(reinterpret_cast<std::uintptr_t>(p));
  big_peak = std::max(big_peak, big->size());
}

void* counting_malloc(std::size_t n, const char*, int) {
  void* p = std::malloc(n);
  remember(p, n);
  return p;
}

void* counting_realloc(void* old, std::size_t n, const char*, int) {
  const bool was_big = forget(reinterpret_cast<std::uintptr_t>(old));
  void* p = std::realloc(old, n);
  if (!p && n && was_big) {  // failed: the old block stays, as it was
    std::lock_guard lock(big_mutex);
    big->insert(reinterpret_cast<std::uintptr_t>(old));
  }
  remember(p, n);
  return p;
}

void counting_free(void* p, const char*, int) {
  forget(reinterpret_cast<std::uintptr_t>(p));
  std::free(p);
}

std::size_t live_big() {
  std::lock_guard lock(big_mutex);
  return big->size();
}

}  // namespace

namespace msb {
namespace {

class TlsMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerOptions o;
    o.addresses = {"127.0.0.1"};
    o.port_count = 1;
    o.tls_port_count = 1;
    o.tls = certs_.files;
    srv_ = std::make_unique<server::TrickleServer>(o);
    srv_->start_thread();
    counted_thread = true;
  }
  void TearDown() override {
    counted_thread = false;
    srv_->stop_thread();
  }
  MultiOptions trusting() const {
    MultiOptions o;
    o.tls.ca_file = certs_.files.cert_file;
    return o;
  }
  const server::Endpoint& https() const { return srv_->endpoints()[1]; }

  test::CertDir certs_;
  std::unique_ptr<server::TrickleServer> srv_;
};

TEST_F(TlsMemory, TheCountSeesRecordBuffers) {
  // Proof that the counting works: a megabyte through TLS needs a record buffer.
  const std::size_t before = big_peak;
  test::LoopDriver driver(trusting());
  TransferSpec s;
  s.url = https().url("/bytes/1000000");
  s.total_timeout_ms = 10000;
  ASSERT_TRUE(driver.multi().add(s));
  ASSERT_TRUE(driver.run(std::chrono::seconds(10)));
  ASSERT_EQ(driver.done.size(), 1u);
  EXPECT_EQ(driver.done[0].result, Result::ok);
  EXPECT_GT(big_peak, before);
}

TEST_F(TlsMemory, IdleConnectionsKeepNoRecordBuffer) {
  // Headers, then nothing: each connection has done its handshake, received the server's
  // session tickets and the response head, and waits.
  constexpr int kConnections = 40;
  test::LoopDriver driver(trusting());
  for (int i = 0; i < kConnections; ++i) {
    TransferSpec s;
    s.url = https().url("/idle");
    ASSERT_TRUE(driver.multi().add(s));
  }
  // Until every request has reached the server, then a while for the heads and tickets.
  for (int i = 0; i < 100 && srv_->stats().requests < kConnections; ++i) {
    driver.run(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(srv_->stats().requests, static_cast<std::uint64_t>(kConnections));
  driver.run(std::chrono::milliseconds(300));
  ASSERT_TRUE(driver.done.empty()) << result_name(driver.done[0].result);
  EXPECT_EQ(driver.multi().stats().tls_handshakes, static_cast<std::uint64_t>(kConnections));
  EXPECT_EQ(live_big(), 0u) << "of " << kConnections << " idle connections";
}

}  // namespace
}  // namespace msb

int main(int argc, char** argv) {
  big = new std::unordered_set<std::uintptr_t>;
  // Before anything calls OpenSSL: it refuses new functions once it has allocated.
  if (!CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free)) {
    std::fprintf(stderr, "tls_memory_test: OpenSSL allocated before main\n");
    return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
