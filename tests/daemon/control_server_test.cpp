#include "daemon/control/control_server.hpp"

#include <cctype>
#include <exception>
#include <fstream>
#include <optional>
#include <string>

#include <asio.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "async/async_event.hpp"
#include "async/use_result.hpp"
#include "daemon/control/json_rpc.hpp"
#include "support/temp_dir.hpp"

namespace nyx::control {
namespace {

using asio::local::stream_protocol;
using async::use_result;
using nlohmann::json;

// The test's end of a control connection, driven on the server's io_context.
class LineClient {
 public:
  explicit LineClient(asio::io_context& io) : socket_(io) {}

  asio::awaitable<bool> connect(const std::filesystem::path& path) {
    auto [ec] =
        co_await socket_.async_connect(stream_protocol::endpoint(path.string()), use_result);
    co_return !ec;
  }
  asio::awaitable<void> send(std::string text) {
    co_await asio::async_write(socket_, asio::buffer(text), use_result);
  }
  asio::awaitable<json> call(std::int64_t id, std::string method, json params = nullptr) {
    co_await send(encode_rpc_request(id, method, params));
    co_return co_await read();
  }
  // The next message, or null once the server has closed the connection.
  asio::awaitable<json> read() {
    auto [ec, n] =
        co_await asio::async_read_until(socket_, asio::dynamic_buffer(buffer_), '\n', use_result);
    if (ec) {
      co_return nullptr;
    }
    json message = json::parse(buffer_.substr(0, n - 1));
    buffer_.erase(0, n);
    co_return message;
  }

 private:
  stream_protocol::socket socket_;
  std::string buffer_;
};

// {key: value}. GCC 12 miscompiles braced json initialisers inside a
// co_await expression ("array used as initializer"), so tests build them here.
json object(std::string_view key, json value) {
  json o = json::object();
  o[std::string(key)] = std::move(value);
  return o;
}

int error_code_of(const json& reply) {
  return reply.contains("error") ? reply["error"]["code"].get<int>() : 0;
}

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    cookie_path_ = dir_.path() / "control.cookie";
    socket_path_ = dir_.path() / "control.sock";
    auto cookie = ControlCookie::create(cookie_path_);
    ASSERT_TRUE(cookie.has_value());
    cookie_hex_ = cookie->hex();
    ASSERT_TRUE(
        methods_
            .add("node.echo",
                 [](const json& params) -> RpcResult {
                   if (!params.is_object() || !params.contains("text")) {
                     return std::unexpected(RpcError{kRpcInvalidParams, "node.echo takes {text}"});
                   }
                   return params["text"];
                 })
            .has_value());
    ASSERT_TRUE(methods_
                    .add("node.count",
                         [](const json& params) -> RpcResult {
                           return params.at("n").get<int>() + 1;  // throws on bad params
                         })
                    .has_value());
  }

  std::unique_ptr<ControlServer> make_server(ControlServerOptions options = {}) {
    options.socket_path = socket_path_;
    auto cookie = ControlCookie::load(cookie_path_);
    EXPECT_TRUE(cookie.has_value());
    int tick = 0;
    return std::make_unique<ControlServer>(io_, options, std::move(*cookie), std::move(methods_),
                                           [tick]() mutable {
                                             return json{{"tick", ++tick}};
                                           });
  }

  // Runs the test body as a coroutine on the server's io_context, then stops
  // the server so the io_context runs dry.
  void run(ControlServer& server, std::function<asio::awaitable<void>()> body) {
    std::exception_ptr failure;
    asio::co_spawn(io_, body(), [&](std::exception_ptr e) {
      failure = e;
      server.stop();
    });
    io_.run();
    if (failure) {
      std::rethrow_exception(failure);
    }
  }

  // Starts a server made with `options`, runs `body` against it, and returns
  // the server (stopped) for the checks that follow.
  std::unique_ptr<ControlServer> serve(std::function<asio::awaitable<void>()> body,
                                       ControlServerOptions options = {}) {
    auto server = make_server(std::move(options));
    const auto started = server->start();
    EXPECT_TRUE(started.has_value());
    if (started) {
      run(*server, std::move(body));
    }
    return server;
  }

  asio::awaitable<json> authenticate(LineClient& client) {
    co_return co_await client.call(0, "auth", object("cookie", cookie_hex_));
  }

  test::TempDir dir_;
  std::filesystem::path cookie_path_;
  std::filesystem::path socket_path_;
  std::string cookie_hex_;
  MethodRegistry methods_;
  asio::io_context io_;
};

TEST_F(ControlServerTest, SocketAndCookieFilesAreOwnerOnly) {
  auto server = make_server();
  ASSERT_TRUE(server->start().has_value());
  struct stat info {};
  ASSERT_EQ(::stat(socket_path_.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(cookie_path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  server->stop();
  EXPECT_FALSE(std::filesystem::exists(socket_path_));
}

TEST_F(ControlServerTest, WithGroupAccessTheGroupMayConnectAndReadTheCookie) {
  ASSERT_TRUE(ControlCookie::create(cookie_path_, /*group_readable=*/true).has_value());
  ControlServerOptions options;
  options.group_access = true;
  auto server = make_server(options);
  ASSERT_TRUE(server->start().has_value());
  struct stat info {};
  ASSERT_EQ(::stat(socket_path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660u);
  ASSERT_EQ(::stat(cookie_path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
  // A group-readable cookie loads; one others may read, or the group write, does not.
  EXPECT_TRUE(ControlCookie::load(cookie_path_).has_value());
  for (const mode_t mode : {0644U, 0660U}) {
    ASSERT_EQ(::chmod(cookie_path_.c_str(), mode), 0);
    EXPECT_FALSE(ControlCookie::load(cookie_path_).has_value()) << std::oct << mode;
  }
  server->stop();
}

TEST_F(ControlServerTest, CallWithoutCookieIsRefusedAndClosed) {
  serve([&]() -> asio::awaitable<void> {
    LineClient client(io_);
    EXPECT_TRUE(co_await client.connect(socket_path_));
    json reply = co_await client.call(1, "node.echo", object("text", "hi"));
    EXPECT_EQ(error_code_of(reply), kRpcAuthRequired);
    EXPECT_EQ(reply["id"], 1);
    EXPECT_TRUE((co_await client.read()).is_null());  // closed
  });
}

TEST_F(ControlServerTest, WrongCookieIsRefusedAndClosed) {
  serve([&]() -> asio::awaitable<void> {
    LineClient client(io_);
    EXPECT_TRUE(co_await client.connect(socket_path_));
    std::string wrong = cookie_hex_;
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    json reply = co_await client.call(1, "auth", object("cookie", wrong));
    EXPECT_EQ(error_code_of(reply), kRpcAuthFailed);
    EXPECT_TRUE((co_await client.read()).is_null());

    LineClient garbled(io_);
    EXPECT_TRUE(co_await garbled.connect(socket_path_));
    reply = co_await garbled.call(2, "auth", object("cookie", "not hex"));
    EXPECT_EQ(error_code_of(reply), kRpcAuthFailed);
    EXPECT_TRUE((co_await garbled.read()).is_null());
  });
}

TEST_F(ControlServerTest, RightCookieThenCalls) {
  serve([&]() -> asio::awaitable<void> {
    LineClient client(io_);
    EXPECT_TRUE(co_await client.connect(socket_path_));
    json reply = co_await authenticate(client);
    EXPECT_EQ(reply["result"]["authenticated"], true);
    reply = co_await client.call(7, "node.echo", object("text", "hello"));
    EXPECT_EQ(reply["jsonrpc"], "2.0");
    EXPECT_EQ(reply["id"], 7);
    EXPECT_EQ(reply["result"], "hello");
    // Upper-case hex is the same cookie.
    std::string upper = cookie_hex_;
    for (char& c : upper) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    LineClient second(io_);
    EXPECT_TRUE(co_await second.connect(socket_path_));
    reply = co_await second.call(1, "auth", object("cookie", upper));
    EXPECT_EQ(reply["result"]["authenticated"], true);
  });
}

TEST_F(ControlServerTest, ErrorsAreAnsweredAndTheServerKeepsServing) {
  serve([&]() -> asio::awaitable<void> {
    LineClient client(io_);
    EXPECT_TRUE(co_await client.connect(socket_path_));
    co_await authenticate(client);

    co_await client.send("{\"jsonrpc\": \"2.0\", \"method\": \n");
    json reply = co_await client.read();
    EXPECT_EQ(error_code_of(reply), kRpcParseError);
    EXPECT_TRUE(reply["id"].is_null());

    co_await client.send("[1, 2]\n");
    EXPECT_EQ(error_code_of(co_await client.read()), kRpcInvalidRequest);
    co_await client.send("{\"jsonrpc\": \"1.0\", \"id\": 3, \"method\": \"node.echo\"}\n");
    reply = co_await client.read();
    EXPECT_EQ(error_code_of(reply), kRpcInvalidRequest);
    EXPECT_EQ(reply["id"], 3);
    co_await client.send("{\"jsonrpc\": \"2.0\", \"id\": 4, \"method\": 5}\n");
    EXPECT_EQ(error_code_of(co_await client.read()), kRpcInvalidRequest);

    reply = co_await client.call(5, "no.such.method");
    EXPECT_EQ(error_code_of(reply), kRpcMethodNotFound);
    EXPECT_EQ(reply["id"], 5);
    EXPECT_EQ(error_code_of(co_await client.call(6, "node.echo", object("wrong", 1))),
              kRpcInvalidParams);
    EXPECT_EQ(error_code_of(co_await client.call(7, "node.count", object("n", "one"))),
              kRpcInvalidParams);
    EXPECT_EQ((co_await client.call(8, "node.count", object("n", 41)))["result"], 42);

    // A notification (no id) runs without an answer: the next reply is the call's.
    co_await client.send("{\"jsonrpc\": \"2.0\", \"method\": \"node.echo\", \"params\": {}}\n");
    reply = co_await client.call(9, "node.echo", object("text", "still here"));
    EXPECT_EQ(reply["id"], 9);
    EXPECT_EQ(reply["result"], "still here");
  });
}

TEST_F(ControlServerTest, MalformedFirstMessageIsRefusedAndClosed) {
  serve([&]() -> asio::awaitable<void> {
    LineClient client(io_);
    EXPECT_TRUE(co_await client.connect(socket_path_));
    co_await client.send("hello\n");
    EXPECT_EQ(error_code_of(co_await client.read()), kRpcParseError);
    EXPECT_TRUE((co_await client.read()).is_null());
  });
}

TEST_F(ControlServerTest, SubscribeReceivesPushesUntilDisconnect) {
  auto server = serve([&]() -> asio::awaitable<void> {
    LineClient client(io_);
    EXPECT_TRUE(co_await client.connect(socket_path_));
    co_await authenticate(client);
    EXPECT_EQ(error_code_of(co_await client.call(1, "events.subscribe", object("interval_ms", 1))),
              kRpcInvalidParams);
    EXPECT_EQ(
        error_code_of(co_await client.call(2, "events.subscribe", object("interval_ms", "x"))),
        kRpcInvalidParams);
    json reply = co_await client.call(3, "events.subscribe", object("interval_ms", 20));
    EXPECT_EQ(reply["result"]["interval_ms"], 20);
    for (int expected = 1; expected <= 3; ++expected) {
      json event = co_await client.read();
      EXPECT_EQ(event["method"], "events.update");
      EXPECT_FALSE(event.contains("id"));
      EXPECT_EQ(event["params"]["data"]["tick"], expected);
    }
    // Calls still work on a subscribed connection; a second subscription does not.
    json again = co_await client.call(4, "events.subscribe", object("interval_ms", 20));
    while (again.contains("method")) {
      again = co_await client.read();
    }
    EXPECT_EQ(error_code_of(again), kRpcAlreadySubscribed);
  });
  EXPECT_EQ(server->connection_count(), 0u);
}

TEST_F(ControlServerTest, OverlongMessageIsRefused) {
  ControlServerOptions options;
  options.max_message_bytes = 160;  // room for the auth call, not for 200 bytes
  serve(
      [&]() -> asio::awaitable<void> {
        LineClient client(io_);
        EXPECT_TRUE(co_await client.connect(socket_path_));
        co_await authenticate(client);
        co_await client.send(std::string(200, 'x') + "\n");
        EXPECT_EQ(error_code_of(co_await client.read()), kRpcInvalidRequest);
        EXPECT_TRUE((co_await client.read()).is_null());
      },
      options);
}

TEST_F(ControlServerTest, ConnectionsAreBounded) {
  ControlServerOptions options;
  options.max_connections = 1;
  serve(
      [&]() -> asio::awaitable<void> {
        LineClient first(io_);
        EXPECT_TRUE(co_await first.connect(socket_path_));
        EXPECT_EQ((co_await authenticate(first))["result"]["authenticated"], true);
        LineClient second(io_);
        EXPECT_TRUE(co_await second.connect(socket_path_));
        co_await second.send(encode_rpc_request(1, "auth", object("cookie", cookie_hex_)));
        EXPECT_TRUE((co_await second.read()).is_null());
        EXPECT_EQ((co_await first.call(2, "node.echo", object("text", "ok")))["result"], "ok");
      },
      options);
}

TEST_F(ControlServerTest, StaleSocketIsReplacedButNotALiveOneOrAFile) {
  {
    // A listener that went away without removing its socket file.
    stream_protocol::acceptor stale(io_, stream_protocol::endpoint(socket_path_.string()));
  }
  ASSERT_TRUE(std::filesystem::exists(socket_path_));
  auto server = make_server();
  ASSERT_TRUE(server->start().has_value());

  ControlServerOptions options;
  options.socket_path = socket_path_;
  auto cookie = ControlCookie::load(cookie_path_);
  ASSERT_TRUE(cookie.has_value());
  ControlServer rival(io_, options, std::move(*cookie), MethodRegistry{});
  auto refused = rival.start();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().category, ErrorCategory::kConfig);
  server->stop();

  const auto plain_file = dir_.path() / "not-a-socket";
  std::ofstream(plain_file) << "keep me";
  options.socket_path = plain_file;
  auto cookie2 = ControlCookie::load(cookie_path_);
  ASSERT_TRUE(cookie2.has_value());
  ControlServer misplaced(io_, options, std::move(*cookie2), MethodRegistry{});
  EXPECT_FALSE(misplaced.start().has_value());
  EXPECT_TRUE(std::filesystem::is_regular_file(plain_file));
}

TEST(MethodRegistryTest, ReservedAndDuplicateNamesAreRefused) {
  MethodRegistry methods;
  auto ok = [](const json&) -> RpcResult { return json(true); };
  EXPECT_FALSE(methods.add("auth", ok).has_value());
  EXPECT_FALSE(methods.add("events.subscribe", ok).has_value());
  EXPECT_FALSE(methods.add("", ok).has_value());
  EXPECT_FALSE(methods.add("x", nullptr).has_value());
  EXPECT_TRUE(methods.add("x", ok).has_value());
  EXPECT_FALSE(methods.add("x", ok).has_value());
  EXPECT_TRUE(methods.contains("x"));
  asio::io_context io;
  std::optional<RpcResult> unknown;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { unknown = co_await methods.call("y", nullptr); },
      asio::detached);
  io.run();
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->error().code, kRpcMethodNotFound);
}

// A method that awaits another thread's answer (the node's cell shard) holds
// only its own connection: another client is served meanwhile, and here is
// the one that lets it finish. Were the control thread blocked in the first
// call, the second could never be read and the test would time out.
TEST_F(ControlServerTest, AnAwaitingMethodDoesNotHoldOtherClients) {
  async::AsyncEvent released(io_.get_executor());
  ASSERT_TRUE(methods_
                  .add_async("node.slow",
                             [&released](json) -> asio::awaitable<RpcResult> {
                               co_await released.wait();
                               co_return json("slow done");
                             })
                  .has_value());
  ASSERT_TRUE(methods_
                  .add("node.release",
                       [&released](const json&) -> RpcResult {
                         released.set();
                         return json(true);
                       })
                  .has_value());
  json slow_reply;
  serve([&]() -> asio::awaitable<void> {
    LineClient waiting(io_);
    LineClient other(io_);
    EXPECT_TRUE(co_await waiting.connect(socket_path_));
    EXPECT_TRUE(co_await other.connect(socket_path_));
    co_await authenticate(waiting);
    co_await authenticate(other);
    co_await waiting.send(encode_rpc_request(1, "node.slow", nullptr));
    const json released_reply = co_await other.call(2, "node.release");
    EXPECT_EQ(released_reply["result"], true);
    slow_reply = co_await waiting.read();
  });
  EXPECT_EQ(slow_reply["result"], "slow done");
}

}  // namespace
}  // namespace nyx::control
