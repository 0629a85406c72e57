// What the engine sends: the method, the Host and Content-Length it adds or leaves to the
// caller, a body (small ones copied into the request text, large ones sent from the shared
// copy), and the source address a connection is bound to. Read back whole by a raw server.
#include <gtest/gtest.h>

#include "drivers.h"
#include "raw_server.h"

namespace msb {
namespace {

class Requests : public ::testing::TestWithParam<std::string> {
 protected:
  // Runs one transfer of `spec` against a fresh raw server; returns what the server read.
  test::RawServer::Received send(TransferSpec spec, const std::string& path = "/p") {
    test::RawServer server([](const std::string&) {
      return test::RawReply{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
    });
    test::LoopDriver driver({}, GetParam());
    spec.url = server.url(path);
    spec.total_timeout_ms = 10000;
    const AddResult added = driver.multi().add(spec);
    EXPECT_TRUE(added) << added.detail;
    EXPECT_TRUE(driver.run(std::chrono::seconds(10)));
    EXPECT_EQ(driver.done.size(), 1u);
    if (!driver.done.empty()) {
      EXPECT_EQ(driver.done[0].result, Result::ok);
    }
    const auto got = server.received();
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? test::RawServer::Received{} : got[0];
  }
};

TEST_P(Requests, ADefaultGetHasHostAndNoLength) {
  const auto r = send(TransferSpec{});
  EXPECT_EQ(r.request.rfind("GET /p HTTP/1.1\r\nHost: 127.0.0.1:", 0), 0u) << r.request;
  EXPECT_EQ(r.request.find("Content-Length"), std::string::npos);
  EXPECT_EQ(r.request.substr(r.request.size() - 4), "\r\n\r\n");
}

TEST_P(Requests, AHeadIsSentAsHead) {
  TransferSpec spec;
  spec.method = "HEAD";
  const auto r = send(spec);
  EXPECT_EQ(r.request.rfind("HEAD /p HTTP/1.1\r\n", 0), 0u) << r.request;
}

TEST_P(Requests, APostCarriesItsBodyWithItsLength) {
  TransferSpec spec;
  spec.method = "POST";
  spec.headers = {"Content-Type: text/plain"};
  spec.body = std::make_shared<const std::string>("hello, server");
  const auto r = send(spec);
  EXPECT_EQ(r.request.rfind("POST /p HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(r.request.find("\r\nContent-Length: 13\r\n"), std::string::npos);
  EXPECT_NE(r.request.find("\r\nContent-Type: text/plain\r\n"), std::string::npos);
  EXPECT_EQ(r.request.substr(r.request.size() - 17), "\r\n\r\nhello, server");
}

TEST_P(Requests, ALargeBodyArrivesWhole) {
  std::string body(300 * 1000, 'b');
  for (std::size_t i = 0; i < body.size(); i += 997) body[i] = static_cast<char>('a' + i % 26);
  TransferSpec spec;
  spec.method = "PUT";
  spec.body = std::make_shared<const std::string>(body);
  const auto r = send(spec);
  const auto head_end = r.request.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_NE(r.request.find("\r\nContent-Length: 300000\r\n"), std::string::npos);
  EXPECT_EQ(r.request.substr(head_end + 4), body);
}

TEST_P(Requests, APutWithoutABodySaysLengthZero) {
  TransferSpec spec;
  spec.method = "PUT";
  const auto r = send(spec);
  EXPECT_NE(r.request.find("\r\nContent-Length: 0\r\n"), std::string::npos);
}

TEST_P(Requests, TheCallersHostAndLengthReplaceTheEngines) {
  TransferSpec spec;
  spec.method = "POST";
  spec.headers = {"host: example.test", "Content-Length: 3"};
  spec.body = std::make_shared<const std::string>("abc");
  const auto r = send(spec);
  EXPECT_EQ(r.request.find("Host: 127.0.0.1"), std::string::npos) << r.request;
  EXPECT_NE(r.request.find("\r\nhost: example.test\r\n"), std::string::npos);
  EXPECT_EQ(r.request.find("Content-Length: 3\r\n"), r.request.rfind("Content-Length: 3\r\n"));
}

TEST_P(Requests, AnyTokenIsAMethod) {
  TransferSpec spec;
  spec.method = "PURGE";
  EXPECT_EQ(send(spec).request.rfind("PURGE /p HTTP/1.1\r\n", 0), 0u);
}

TEST_P(Requests, ASourceAddressIsTheConnectionsOwn) {
  TransferSpec spec;
  spec.source_address = "127.0.0.7";
  EXPECT_EQ(send(spec).peer, "127.0.0.7");
}

TEST_P(Requests, BadMethodsAndAddressesAreRefusedAtAdd) {
  test::LoopDriver driver({}, GetParam());
  TransferSpec spec;
  spec.url = "http://127.0.0.1:1/";
  spec.method = "GE T";
  AddResult r = driver.multi().add(spec);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error, Result::bad_option);
  spec.method = "GET";
  spec.source_address = "127.0.0.300";
  r = driver.multi().add(spec);
  EXPECT_EQ(r.error, Result::bad_option);
  EXPECT_NE(r.detail.find("127.0.0.300"), std::string::npos);
  spec.source_address = "";
  spec.pipeline = 0;
  EXPECT_EQ(driver.multi().add(spec).error, Result::bad_option);
}

INSTANTIATE_TEST_SUITE_P(Backends, Requests, ::testing::ValuesIn(test::all_backends()),
                         test::backend_test_name);

}  // namespace
}  // namespace msb
