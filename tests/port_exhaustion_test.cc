// Out of local ports: with the ephemeral range cut to a few ports (IP_LOCAL_PORT_RANGE),
// connects past it fail at once with couldnt_connect and EADDRNOTAVAIL, while the
// connections that got a port carry on and complete. Nothing waits for a timeout.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "drivers.h"
#include "server_process.h"

namespace msb {
namespace {

class PortExhaustion : public ::testing::TestWithParam<std::string> {};

TEST_P(PortExhaustion, ConnectsPastTheRangeFailWithEaddrnotavailOthersComplete) {
  server::ServerProcess srv(server::ServerOptions{});
  // Four ports, all inside the default ephemeral range so the kernel intersects nothing
  // away; one destination, so each connection needs a port of its own.
  MultiOptions opt;
  opt.local_port_first = 45100;
  opt.local_port_last = 45103;
  test::LoopDriver driver(opt, GetParam());
  // Held open (a 1 s trickle) so that the four ports stay taken while the rest connect.
  const std::string url = srv.endpoints()[0].url("/trickle/4/250/1");
  for (int i = 0; i < 10; ++i) {
    TransferSpec s;
    s.url = url;
    s.total_timeout_ms = 10000;
    ASSERT_TRUE(driver.multi().add(s));
  }
  ASSERT_TRUE(driver.run(std::chrono::seconds(20)));
  ASSERT_EQ(driver.done.size(), 10u);
  int ok = 0, no_port = 0;
  for (const Done& d : driver.done) {
    if (d.result == Result::ok) {
      ++ok;
      EXPECT_EQ(d.body_bytes, 4u);
    } else {
      EXPECT_EQ(d.result, Result::couldnt_connect) << result_name(d.result);
      EXPECT_EQ(d.os_error, EADDRNOTAVAIL) << std::strerror(d.os_error);
      EXPECT_LT(d.timings.total_us, 500'000) << "failed at once, not after a wait";
      ++no_port;
    }
  }
  // Ports may be reused once a transfer ends, but never more than four at a time.
  EXPECT_GE(ok, 4);
  EXPECT_GE(no_port, 1);
  EXPECT_LE(driver.max_watched, 4u);
}

INSTANTIATE_TEST_SUITE_P(Backends, PortExhaustion, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
