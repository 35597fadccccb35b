#include <cerrno>
#include <future>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <gtest/gtest.h>

#include "daemon/control/control_client.hpp"
#include "daemon/control/control_server.hpp"
#include "support/temp_dir.hpp"

namespace nyx::control {
namespace {

using nlohmann::json;

// A control server on its own thread, as nyxd runs it, for the blocking client.
class ControlClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    cookie_path_ = dir_.path() / "control.cookie";
    socket_path_ = dir_.path() / "control.sock";
    auto cookie = ControlCookie::create(cookie_path_);
    ASSERT_TRUE(cookie.has_value());
    MethodRegistry methods;
    ASSERT_TRUE(methods
                    .add("node.info",
                         [](const json&) -> RpcResult {
                           return json{{"name", "test-node"}};
                         })
                    .has_value());
    int tick = 0;
    ControlServerOptions options;
    options.socket_path = socket_path_;
    server_ = std::make_unique<ControlServer>(io_, options, std::move(*cookie), std::move(methods),
                                              [tick]() mutable {
                                                return json{{"tick", ++tick}};
                                              });
    ASSERT_TRUE(server_->start().has_value());
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      asio::post(io_, [this] { server_->stop(); });
      thread_.join();
    }
  }

  ControlClient connect_and_authenticate() {
    auto client = ControlClient::connect(socket_path_);
    EXPECT_TRUE(client.has_value());
    auto cookie = ControlCookie::load(cookie_path_);
    EXPECT_TRUE(cookie.has_value());
    EXPECT_TRUE(client->authenticate(*cookie).has_value());
    return std::move(*client);
  }

  test::TempDir dir_;
  std::filesystem::path cookie_path_;
  std::filesystem::path socket_path_;
  asio::io_context io_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
};

TEST_F(ControlClientTest, AuthenticatesAndCalls) {
  ControlClient client = connect_and_authenticate();
  auto info = client.call("node.info");
  ASSERT_TRUE(info.has_value()) << info.error().to_string();
  EXPECT_EQ((*info)["name"], "test-node");
  auto missing = client.call("no.such.method", {{"x", 1}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().category, ErrorCategory::kProtocol);
  EXPECT_EQ(missing.error().code, kRpcMethodNotFound);
  EXPECT_TRUE(client.call("node.info").has_value());  // still served
}

TEST_F(ControlClientTest, CallBeforeAuthIsRefused) {
  auto client = ControlClient::connect(socket_path_);
  ASSERT_TRUE(client.has_value());
  auto info = client->call("node.info");
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().category, ErrorCategory::kPermission);
  EXPECT_EQ(info.error().code, kRpcAuthRequired);
  EXPECT_EQ(client->call("node.info").error().category, ErrorCategory::kClosed);
}

TEST_F(ControlClientTest, WrongCookieIsRefused) {
  auto client = ControlClient::connect(socket_path_);
  ASSERT_TRUE(client.has_value());
  auto other = ControlCookie::create(dir_.path() / "other.cookie");
  ASSERT_TRUE(other.has_value());
  auto refused = client->authenticate(*other);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().category, ErrorCategory::kPermission);
  EXPECT_EQ(refused.error().code, kRpcAuthFailed);
}

TEST_F(ControlClientTest, SubscribeDeliversEventsUntilTheCallbackStops) {
  ControlClient client = connect_and_authenticate();
  std::vector<int> ticks;
  auto done = client.subscribe(std::chrono::milliseconds(10), [&](const json& data) {
    ticks.push_back(data["tick"].get<int>());
    return ticks.size() < 3;
  });
  ASSERT_TRUE(done.has_value()) << done.error().to_string();
  EXPECT_EQ(ticks, (std::vector<int>{1, 2, 3}));
  // Calls on the subscribed connection skip the events in between.
  auto info = client.call("node.info");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ((*info)["name"], "test-node");
}

TEST(ControlClientNoServerTest, SaysSoWhenNothingListens) {
  test::TempDir dir;
  auto client = ControlClient::connect(dir.path() / "control.sock");
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().category, ErrorCategory::kIo);
  EXPECT_EQ(client.error().code, ENOENT);
}

}  // namespace
}  // namespace nyx::control
