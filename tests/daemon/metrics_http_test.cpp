#include "daemon/metrics_http.hpp"

#include <chrono>
#include <string>

#include <asio.hpp>
#include <gtest/gtest.h>

#include "async/spawn.hpp"
#include "async/use_result.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/metrics_allow_list.hpp"

namespace nyx::daemon {
namespace {

using asio::ip::tcp;
using async::use_result;

class MetricsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.counter("nyx_test_total", "A test counter").inc(3);
    restart(MetricsAllowList::loopback());
  }

  // A fresh server that lets `allow` scrape.
  void restart(MetricsAllowList allow) {
    if (server_) {
      server_->stop();
    }
    server_ = std::make_unique<MetricsHttpServer>(
        io_,
        MetricsHttpOptions{.idle_timeout = std::chrono::milliseconds(100),
                           .allow = std::move(allow),
                           .refused = &refused_},
        [this] { return registry_.prometheus_text(); });
    ASSERT_TRUE(server_->start().has_value());
  }

  // Sends `request` and returns everything the server wrote before closing.
  std::string exchange(const std::string& request) {
    std::string response;
    bool done = false;
    async::spawn(io_.get_executor(), fetch(request, response, done), "metrics client",
                 [](const Error& failure) { ADD_FAILURE() << failure.message; });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(done) << "the server did not close the connection";
    return response;
  }

  // The client side of exchange(): appends to `response`, sets `done` at EOF.
  asio::awaitable<void> fetch(std::string request, std::string& response, bool& done) {
    tcp::socket socket(io_);
    auto [ec] = co_await socket.async_connect(server_->local_endpoint(), use_result);
    EXPECT_FALSE(ec) << ec.message();
    if (!request.empty()) {
      co_await asio::async_write(socket, asio::buffer(request), use_result);
    }
    for (;;) {
      char chunk[4096];
      auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(chunk), use_result);
      if (read_ec) {
        break;
      }
      response.append(chunk, n);
    }
    done = true;
  }

  asio::io_context io_;
  metrics::Registry registry_;
  metrics::Counter refused_;
  std::unique_ptr<MetricsHttpServer> server_;
};

TEST_F(MetricsHttpTest, ServesTheRegistryAtSlashMetrics) {
  const auto response = exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(response.find("Connection: close"), std::string::npos);
  EXPECT_NE(response.find("\r\n\r\n# HELP nyx_test_total"), std::string::npos) << response;
  EXPECT_NE(response.find("nyx_test_total 3\n"), std::string::npos) << response;
  const auto body = registry_.prometheus_text();
  EXPECT_NE(response.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
}

TEST_F(MetricsHttpTest, OtherPathsAre404AndOtherMethods405) {
  EXPECT_TRUE(exchange("GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 ")) << "root";
  EXPECT_TRUE(exchange("GET /metricsx HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 404 "));
  EXPECT_TRUE(exchange("POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405 "));
  const auto head = exchange("HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 ")) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
}

TEST_F(MetricsHttpTest, MalformedRequestIs400) {
  EXPECT_TRUE(exchange("hello\r\n\r\n").starts_with("HTTP/1.1 400 "));
  EXPECT_TRUE(exchange("GET /metrics SPDY/3\r\n\r\n").starts_with("HTTP/1.1 400 "));
}

TEST_F(MetricsHttpTest, OversizedRequestIsRefusedAndClosed) {
  // One byte over the bound and no end of headers: the server has read all
  // of it when it answers, so its close does not reset the reply away.
  const std::string huge(MetricsHttpServer::kMaxRequestBytes + 1, 'a');
  EXPECT_TRUE(exchange(huge).starts_with("HTTP/1.1 431 "));
}

TEST_F(MetricsHttpTest, IdleConnectionIsClosed) {
  // Nothing sent: the idle timeout (100 ms here) closes it without a reply.
  EXPECT_EQ(exchange(""), "");
  // The server still answers afterwards.
  EXPECT_TRUE(exchange("GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 "));
}

TEST_F(MetricsHttpTest, AClientOutsideTheAllowListGets403AndIsCounted) {
  // The test client connects from 127.0.0.1: allowed by default.
  EXPECT_TRUE(exchange("GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 "));
  EXPECT_EQ(refused_.value(), 0u);

  auto others = MetricsAllowList::parse({"10.0.0.0/8", "::1"});
  ASSERT_TRUE(others.has_value()) << others.error().message;
  restart(std::move(*others));
  const auto response = exchange("GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(response.starts_with("HTTP/1.1 403 ")) << response;
  EXPECT_EQ(response.find("nyx_test_total"), std::string::npos) << response;
  EXPECT_TRUE(exchange("GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 403 "));
  EXPECT_EQ(refused_.value(), 2u);

  auto single = MetricsAllowList::parse({"127.0.0.1"});
  ASSERT_TRUE(single.has_value());
  restart(std::move(*single));
  EXPECT_TRUE(exchange("GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 "));
  EXPECT_EQ(refused_.value(), 2u);
}

TEST(MetricsAllowList, RangesAndMappedAddresses) {
  auto list = MetricsAllowList::parse({"10.0.0.0/8", "192.0.2.7", "fd00::/8"});
  ASSERT_TRUE(list.has_value()) << list.error().message;
  auto ip = [](const char* text) { return *IpAddress::parse(text); };
  EXPECT_TRUE(list->allows(ip("10.200.0.1")));
  EXPECT_FALSE(list->allows(ip("11.0.0.1")));
  EXPECT_TRUE(list->allows(ip("192.0.2.7")));
  EXPECT_FALSE(list->allows(ip("192.0.2.8")));
  EXPECT_TRUE(list->allows(ip("fd12::1")));
  EXPECT_TRUE(list->allows(ip("::ffff:10.1.1.1")));  // as a dual-stack socket reports IPv4
  EXPECT_FALSE(list->allows(ip("127.0.0.1")));
  EXPECT_TRUE(MetricsAllowList::loopback().allows(ip("127.3.4.5")));
  EXPECT_TRUE(MetricsAllowList::loopback().allows(ip("::1")));
  EXPECT_FALSE(MetricsAllowList::loopback().allows(ip("::2")));
  for (const char* bad : {"10.0.0.0/33", "10.1.2.3/8", "host", "10.0.0.0/x", "::/129", ""}) {
    const auto refused = MetricsAllowList::parse({bad});
    ASSERT_FALSE(refused.has_value()) << bad;
    EXPECT_EQ(refused.error().category, ErrorCategory::kConfig);
    EXPECT_NE(refused.error().message.find(std::string("'") + bad + "'"), std::string::npos)
        << refused.error().message;
  }
  EXPECT_FALSE(MetricsAllowList::parse({}).has_value());
}

TEST(MetricsAllowList, AnIpv4MappedEntryMatchesTheIpv4ClientsItNames) {
  auto ip = [](const char* text) { return *IpAddress::parse(text); };
  auto list = MetricsAllowList::parse({"::ffff:10.0.0.0/104", "::ffff:192.0.2.7"});
  ASSERT_TRUE(list.has_value()) << list.error().message;
  EXPECT_TRUE(list->allows(ip("10.9.8.7")));
  EXPECT_TRUE(list->allows(ip("::ffff:10.9.8.7")));
  EXPECT_FALSE(list->allows(ip("11.0.0.1")));
  EXPECT_TRUE(list->allows(ip("192.0.2.7")));
  EXPECT_FALSE(list->allows(ip("192.0.2.8")));
  const auto too_wide = MetricsAllowList::parse({"::ffff:0.0.0.0/95"});
  ASSERT_FALSE(too_wide.has_value());
  EXPECT_EQ(too_wide.error().category, ErrorCategory::kConfig);
}

TEST_F(MetricsHttpTest, StopClosesTheListener) {
  const auto endpoint = server_->local_endpoint();
  server_->stop();
  tcp::socket socket(io_);
  std::error_code ec;
  socket.connect(endpoint, ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace nyx::daemon
