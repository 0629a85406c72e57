#include "listen_ports.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace msb::cli {
namespace {

const PortRange kLinuxDefault{32768, 60999};  // 28,232 ports, 14,116 of each parity

TEST(ListenPorts, ADestinationHoldsAShareOfOneParityOfTheRange) {
  EXPECT_EQ(connections_per_destination(kLinuxDefault), 9881);
  EXPECT_EQ(connections_per_destination(PortRange{1024, 65535}), 22579);
  EXPECT_EQ(connections_per_destination(PortRange{40000, 40000}), 1);  // never zero
}

TEST(ListenPorts, OnePortWhileOneDestinationHoldsAWorkersShare) {
  EXPECT_EQ(listen_ports_needed(1000, 1, 1, kLinuxDefault), 1);
  EXPECT_EQ(listen_ports_needed(9881, 1, 1, kLinuxDefault), 1);
  EXPECT_EQ(listen_ports_needed(0, 1, 1, kLinuxDefault), 1);
}

TEST(ListenPorts, MorePortsOncePastIt) {
  EXPECT_EQ(listen_ports_needed(9882, 1, 1, kLinuxDefault), 2);
  EXPECT_EQ(listen_ports_needed(19000, 1, 1, kLinuxDefault), 2);  // idle-1m's share
  EXPECT_EQ(listen_ports_needed(19763, 1, 1, kLinuxDefault), 3);
}

TEST(ListenPorts, AddressesShareTheLoad) {
  EXPECT_EQ(listen_ports_needed(19000, 2, 1, kLinuxDefault), 1);
  EXPECT_EQ(listen_ports_needed(19000, 4, 1, kLinuxDefault), 1);
  EXPECT_EQ(listen_ports_needed(40000, 2, 1, kLinuxDefault), 3);  // 5 destinations, 2 addresses
}

TEST(ListenPorts, TheScenariosOwnCountIsAFloor) {
  EXPECT_EQ(listen_ports_needed(1000, 1, 8, kLinuxDefault), 8);
  EXPECT_EQ(listen_ports_needed(19000, 1, 8, kLinuxDefault), 8);
}

TEST(ListenPorts, ANarrowRangeNeedsMorePorts) {
  EXPECT_EQ(listen_ports_needed(19000, 1, 1, PortRange{50000, 50999}), 55);  // 350 each
}

TEST(ListenPorts, ReadsTheRangeAndFallsBackToLinuxsDefault) {
  const std::string path = ::testing::TempDir() + "msb_port_range";
  auto range_in = [&](const std::string& text) {
    std::ofstream(path) << text;
    return ephemeral_port_range(path);
  };
  PortRange r = range_in("1024\t65000\n");
  EXPECT_EQ(r.low, 1024);
  EXPECT_EQ(r.high, 65000);
  for (const char* bad : {"", "garbage", "60999 32768", "0 100", "1024 70000"}) {
    r = range_in(bad);
    EXPECT_EQ(r.low, 32768) << bad;
    EXPECT_EQ(r.high, 60999) << bad;
  }
  std::remove(path.c_str());
  r = ephemeral_port_range(path);  // missing
  EXPECT_EQ(r.low, 32768);
  EXPECT_EQ(r.high, 60999);
}

}  // namespace
}  // namespace msb::cli
