// Allocation failure: the N-th allocation the engine makes fails (std::bad_alloc), for every
// N a small workload reaches. The transfer that needed the memory ends out_of_memory (or its
// add() is refused as such), every other transfer completes, nothing crashes or hangs, and
// nothing leaks (ASan's leak check and the valgrind job run this binary too).
//
// Global operator new is replaced in this binary only, and OpenSSL's allocation functions
// (CRYPTO_set_mem_functions, before OpenSSL allocates anything) count on the same tally, so
// the https:// workload fails OpenSSL's allocations too. They fail only while armed and only
// on the test's own thread, so gtest and the server process are untouched.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "cert_dir.h"
#include "dns_server.h"
#include "msb/backend.h"
#include "server_process.h"

namespace {

thread_local bool t_armed = false;
thread_local long t_seen = 0;        // allocations while armed
thread_local long t_fail_from = 0;   // the first one that fails (counted from 1; 0: none)
thread_local long t_fail_count = 1;  // how many fail in a row from there

// Whether this allocation, counted while armed, is one that fails.
bool fails_now() {
  if (!t_armed) return false;
  ++t_seen;
  return t_fail_from > 0 && t_seen >= t_fail_from && t_seen < t_fail_from + t_fail_count;
}

void* allocate(std::size_t n) {
  if (fails_now()) throw std::bad_alloc();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}

void* openssl_malloc(std::size_t n, const char*, int) {
  return fails_now() ? nullptr : std::malloc(n);
}
void* openssl_realloc(void* p, std::size_t n, const char*, int) {
  return fails_now() ? nullptr : std::realloc(p, n);
}
void openssl_free(void* p, const char*, int) {
  std::free(p);
}
// Before main: OpenSSL refuses new functions once it has allocated.
const bool openssl_counted =
    CRYPTO_set_mem_functions(openssl_malloc, openssl_realloc, openssl_free) == 1;

}  // namespace

void* operator new(std::size_t n) {
  return allocate(n);
}
void* operator new[](std::size_t n) {
  return allocate(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
  return operator new(n, t);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace msb {
namespace {

// Descriptors open in this process: a failed allocation must not leak one either.
int open_fds() {
  int n = 0;
  for (int fd = 0; fd < 4096; ++fd) n += fcntl(fd, F_GETFD) != -1;
  return n;
}

constexpr int kTransfers = 6;

struct Outcome {
  int added = 0, refused_oom = 0, ok = 0, oom = 0, other = 0;
  int oom_in_openssl = 0;  // of `oom`: OpenSSL's failure, as its error queue told
  std::string others;      // the codes counted in `other`
  std::vector<Result> other_codes;
  bool finished = false;
  long allocations = 0;
};

// Six transfers through epoll: five single requests (two by keep-alive on one connection)
// and a request loop (a POST with a body, 3 requests pipelined 2 at a time), failing
// `fail_count` allocations in a row from number `fail_at` (0: none), counted from the first
// add(). With `dns`, by host name: three names for six transfers, so lookups are joined and
// answers cached. With `tls`, over https:// verified against that certificate: the TLS
// context made at the first add(), handshakes, records, session tickets.
Outcome run_workload(const server::ServerProcess& srv, long fail_at, long fail_count,
                     const server::Dnsmasq* dns, TimerKind timers,
                     const server::TlsFiles* tls = nullptr) {
  Outcome o;
  auto loop = make_backend("epoll");
  MultiOptions opt;
  opt.timers = timers;
  if (dns) opt.dns_servers = dns->server();
  if (tls) opt.tls.ca_file = tls->cert_file;
  auto multi = loop->make_multi(opt);
  const auto& target = *std::find_if(srv.endpoints().begin(), srv.endpoints().end(),
                                     [&](const auto& e) { return e.tls == (tls != nullptr); });
  std::vector<TransferSpec> specs(kTransfers);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    std::string url = target.url(i == 5  ? "/bytes/50"
                                 : i % 2 ? "/chunked/3000/700"
                                         : "/bytes/2000");
    if (dns) url.replace(url.find("127.0.0.1"), 9, "h" + std::to_string(i % 3) + ".msb.test");
    specs[i].url = url;
    specs[i].headers = {"X-Test: " + std::to_string(i)};
    specs[i].total_timeout_ms = 5000;
  }
  specs[5].method = "POST";
  specs[5].body = std::make_shared<const std::string>(100, 'b');
  specs[5].requests = 3;
  specs[5].pipeline = 2;
  struct Armed {  // disarmed however the workload ends
    Armed(long fail_at, long fail_count) {
      t_seen = 0;
      t_fail_from = fail_at;
      t_fail_count = fail_count;
      t_armed = true;
    }
    ~Armed() { t_armed = false; }
  } armed(fail_at, fail_count);
  for (auto& s : specs) {
    const AddResult a = multi->add(std::move(s));  // moved: the test itself allocates nothing
    if (a) {
      ++o.added;
    } else if (a.error == Result::out_of_memory) {
      ++o.refused_oom;
    } else {
      o.others += "refused " + std::string(result_name(a.error)) + ": " + a.detail + " ";
    }
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int ended = 0;
  while (ended < o.added && std::chrono::steady_clock::now() < until) {
    loop->run_once(50);
    while (auto d = multi->info_read()) {
      ++ended;
      if (d->result == Result::ok) {
        ++o.ok;
      } else if (d->result == Result::out_of_memory) {
        ++o.oom;
        o.oom_in_openssl += d->tls_error != 0 || d->tls_verify != 0;
      } else {
        ++o.other;
        o.others += std::string(result_name(d->result)) + " ";
        o.other_codes.push_back(d->result);
      }
    }
  }
  o.finished = ended == o.added;
  multi.reset();  // still armed: the teardown may not allocate where it cannot fail
  o.allocations = t_seen;
  return o;
}

// `max_ended`: how many transfers one failed allocation may end. By address nothing is
// shared, so one; by name a lookup is shared by the transfers that joined it, and a
// resolver socket that cannot be watched ends every lookup under way. `fail_count` > 1
// fails the handlers' own allocations too (the finished transfer's record).
void check_every_allocation(const server::ServerProcess& srv, const server::Dnsmasq* dns,
                            int max_ended, TimerKind timers, long fail_count = 1) {
  SCOPED_TRACE(::testing::Message() << timer_name(timers) << ", " << fail_count << " in a row");
  const Outcome clean = run_workload(srv, 0, 1, dns, timers);
  ASSERT_TRUE(clean.finished);
  ASSERT_EQ(clean.ok, kTransfers);
  ASSERT_GT(clean.allocations, 20);
  int oom_seen = 0;
  const int fds_before = open_fds();
  for (long n = 1; n <= clean.allocations; ++n) {
    SCOPED_TRACE(::testing::Message() << "allocation " << n << " of " << clean.allocations);
    const Outcome o = run_workload(srv, n, fail_count, dns, timers);
    ASSERT_TRUE(o.finished) << "a transfer hung";
    EXPECT_EQ(o.added + o.refused_oom, kTransfers);
    EXPECT_EQ(o.other, 0) << o.others;
    EXPECT_EQ(o.ok + o.oom, o.added);
    EXPECT_LE(o.oom + o.refused_oom, std::min<long>(kTransfers, max_ended * fail_count))
        << "transfers ended by the failed allocations";
    oom_seen += o.oom + o.refused_oom;
    EXPECT_EQ(open_fds(), fds_before) << "a descriptor leaked";
  }
  std::printf(
      "timers %s, %ld failing in a row: allocations in the workload: %ld, "
      "transfers ended out_of_memory over all runs: %d\n",
      timer_name(timers), fail_count, clean.allocations, oom_seen);
  // Most allocations belong to one transfer: their failure must show.
  EXPECT_GT(oom_seen, clean.allocations / 2);
}

TEST(AllocationFailure, EveryFailedAllocationEndsOneTransferOutOfMemoryAndNothingElse) {
  server::ServerProcess srv(server::ServerOptions{});
  for (TimerKind timers : {TimerKind::splay, TimerKind::heap, TimerKind::wheel}) {
    check_every_allocation(srv, nullptr, 1, timers);
  }
}

// The same with names resolved by c-ares against dnsmasq: the answer's handling runs under
// c-ares' C frames, where a failed allocation must become a result, never an exception.
// A failed allocation in c-ares' socket-state callback (the socket's index entry) ends the
// lookups under way out_of_memory at once: before, it threw through c-ares, the lookup hung
// until the total timeout and c-ares lost the socket (a descriptor leaked).
TEST(AllocationFailure, ByNameThroughTheResolverToo) {
  server::Dnsmasq dns(
      {{"h0.msb.test", "127.0.0.1"}, {"h1.msb.test", "127.0.0.1"}, {"h2.msb.test", "127.0.0.1"}});
  server::ServerProcess srv(server::ServerOptions{});
  for (TimerKind timers : {TimerKind::splay, TimerKind::heap, TimerKind::wheel}) {
    check_every_allocation(srv, &dns, kTransfers, timers);
  }
}

// Two and three failures in a row: the handler that ends a transfer out_of_memory needs no
// memory itself. When the finished transfer's record cannot be queued, the transfer keeps
// it until info_read() hands it out; nothing escapes socket_action().
TEST(AllocationFailure, SeveralInARowStillEndEachTransferOnce) {
  server::ServerProcess srv(server::ServerOptions{});
  for (long in_a_row : {2, 3}) check_every_allocation(srv, nullptr, 1, TimerKind::splay, in_a_row);
  server::Dnsmasq dns(
      {{"h0.msb.test", "127.0.0.1"}, {"h1.msb.test", "127.0.0.1"}, {"h2.msb.test", "127.0.0.1"}});
  check_every_allocation(srv, &dns, kTransfers, TimerKind::splay, 2);
}

// Over https://, OpenSSL's allocations fail too: the TLS context made at the first add(),
// every handshake, record and session ticket. A failure OpenSSL reports as one (anywhere in
// its error queue, or as the verification's out-of-memory) ends the transfer out_of_memory;
// one it hides (its decoders swallow errors: a certificate whose key could not be decoded
// reads as "key too weak") ends it with a TLS code and OpenSSL's reason, never with any
// other code. A failure in the shared context (the CA store) may end every
// transfer. No hang, no leaked descriptor, and (ASan, valgrind) no leaked memory.
// Every `stride`-th allocation of ~17,000: MSB_ALLOC_STRIDE (tools/memcheck.sh sets a
// larger one), 11 otherwise (every one: 150 s; every 11th: 14 s).
TEST(AllocationFailure, OverHttpsOpenSslsAllocationsFailToo) {
  ASSERT_TRUE(openssl_counted) << "OpenSSL allocated before this binary's static initializers";
  test::CertDir certs;
  server::ServerOptions so;
  so.tls_port_count = 1;
  so.tls = certs.files;
  server::ServerProcess srv(so);
  const Outcome clean = run_workload(srv, 0, 1, nullptr, TimerKind::splay, &certs.files);
  ASSERT_TRUE(clean.finished);
  ASSERT_EQ(clean.ok, kTransfers) << clean.others;
  ASSERT_GT(clean.allocations, 1000);
  const char* env = std::getenv("MSB_ALLOC_STRIDE");
  const long stride = std::max(1L, env ? std::atol(env) : 11L);
  const int fds_before = open_fds();
  int points = 0, oom_seen = 0, oom_in_openssl = 0, tls_seen = 0;
  for (long n = 1; n <= clean.allocations; n += stride) {
    SCOPED_TRACE(::testing::Message() << "allocation " << n << " of " << clean.allocations);
    const Outcome o = run_workload(srv, n, 1, nullptr, TimerKind::splay, &certs.files);
    ++points;
    ASSERT_TRUE(o.finished) << "a transfer hung";
    EXPECT_EQ(o.added + o.refused_oom, kTransfers) << o.others;
    EXPECT_EQ(o.ok + o.oom + o.other, o.added);
    for (const Result r : o.other_codes) {
      EXPECT_TRUE(r == Result::tls_handshake_failed || r == Result::tls_cert_untrusted ||
                  r == Result::tls_name_mismatch || r == Result::tls_record_error)
          << result_name(r);
    }
    oom_seen += o.oom + o.refused_oom;
    oom_in_openssl += o.oom_in_openssl;
    tls_seen += o.other;
    EXPECT_EQ(open_fds(), fds_before) << "a descriptor leaked";
  }
  std::printf(
      "https: %ld allocations in the workload, %d failed one by one: transfers ended "
      "out_of_memory %d (%d in OpenSSL), with a TLS code %d\n",
      clean.allocations, points, oom_seen, oom_in_openssl, tls_seen);
  // Failing every allocation in turn: 2,938 transfers ended out_of_memory, 4,449 with a TLS
  // code; the other failures OpenSSL does without (caches, error strings).
  EXPECT_GT(oom_seen, points / 20);
  EXPECT_GT(oom_in_openssl, 0) << "OpenSSL's allocation failures all ended with TLS codes";
}

}  // namespace
}  // namespace msb
