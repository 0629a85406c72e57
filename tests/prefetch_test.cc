// Multi::prefetch() is a hint: whatever fd it names (a watched socket, one closed since, a
// number never used, a negative one), transfers run as they would without it, and it is not
// counted as a socket index lookup. The loop backends name ready sockets themselves; here
// the application adds its own hints on top, between the loop's iterations, on every backend
// and socket index.
#include <gtest/gtest.h>

#include <climits>
#include <set>
#include <string>
#include <vector>

#include "drivers.h"
#include "trickle_server.h"

namespace msb {
namespace {

class Prefetch : public ::testing::TestWithParam<std::string> {};

void run_with_hints(const std::string& backend, SockIndexKind index) {
  SCOPED_TRACE(sockindex_name(index));
  server::TrickleServer srv{server::ServerOptions{}};
  srv.start_thread();
  std::set<int> watched, closed;
  MultiOptions opt;
  opt.sockindex = index;
  opt.socket_fn = [&](int fd, int what, void*) {
    if (what == kPollRemove) {
      watched.erase(fd);
      closed.insert(fd);
    } else {
      watched.insert(fd);
    }
    return 0;
  };
  test::LoopDriver driver(opt, backend);
  Multi& multi = driver.multi();
  constexpr int kTransfers = 40;
  for (int i = 0; i < kTransfers; ++i) {
    TransferSpec s;
    s.url = srv.endpoints()[0].url(i % 2 ? "/trickle/8/5" : "/bytes/3000");
    s.total_timeout_ms = 10000;
    ASSERT_TRUE(multi.add(s));
  }
  std::uint64_t hints = 0, hints_to_watched = 0;
  for (int round = 0; round < 2000 && multi.running() > 0; ++round) {
    driver.backend().run_once(50);
    while (auto d = multi.info_read()) driver.done.push_back(*d);
    const std::uint64_t lookups = multi.stats().sockindex.lookups;
    std::vector<int> names(watched.begin(), watched.end());
    hints_to_watched += watched.size();
    names.insert(names.end(), closed.begin(), closed.end());
    for (int junk : {-1, -1000, 0, 1, 2, 65535, 1 << 20, INT_MAX}) names.push_back(junk);
    for (int fd : names) {
      multi.prefetch(fd);
      ++hints;
    }
    EXPECT_EQ(multi.stats().sockindex.lookups, lookups) << "a hint counted as a lookup";
  }
  ASSERT_EQ(multi.running(), 0);
  ASSERT_EQ(driver.done.size(), std::size_t{kTransfers});
  for (const Done& d : driver.done) {
    EXPECT_EQ(d.result, Result::ok) << result_name(d.result);
    EXPECT_EQ(d.http_status, 200);
    EXPECT_TRUE(d.body_bytes == 8 || d.body_bytes == 3000) << d.body_bytes;
  }
  EXPECT_GE(hints_to_watched, std::uint64_t{kTransfers});  // named while they ran
  EXPECT_GT(hints, hints_to_watched);                      // and junk beside them
  EXPECT_FALSE(closed.empty());                            // and some named sockets closed since
}

TEST_P(Prefetch, AnyFdChangesNothingAndIsNoLookup) {
  for (const std::string& name : sockindex_names())
    run_with_hints(GetParam(), *parse_sockindex(name));
}

INSTANTIATE_TEST_SUITE_P(Backends, Prefetch, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
