#include "daemon/socks5_server.hpp"

#include <cerrno>
#include <exception>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include "async/use_result.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/support/socks5_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

using asio::ip::tcp;
using namespace std::string_literals;
// Wire bytes as strings: GCC 12 miscompiles braced initialisers inside a
// co_await expression ("array used as initializer"), string literals are fine.
using Buffer = std::string;
using async::use_result;
// 1 MiB of varied bytes, so a relay that drops, repeats or reorders shows.
std::string big_body() {
  std::string body;
  body.reserve(1 << 20);
  std::uint32_t x = 12345;
  while (body.size() < (1 << 20)) {
    x = x * 1103515245 + 12345;
    body.push_back(static_cast<char>('a' + (x >> 16) % 26));
  }
  return body;
}
const std::string kBody = big_body();

Buffer connect_domain(std::string_view host, std::uint16_t port, std::uint8_t command = 0x01) {
  Buffer b = "\x05"s;
  b.push_back(static_cast<char>(command));
  b += "\x00\x03"s;
  b.push_back(static_cast<char>(host.size()));
  b += host;
  b.push_back(static_cast<char>(port >> 8));
  b.push_back(static_cast<char>(port & 0xFF));
  return b;
}

// The application's end of a SOCKS connection.
class Client {
 public:
  explicit Client(asio::io_context& io) : socket_(io) {}

  asio::awaitable<bool> connect(tcp::endpoint server) {
    auto [ec] = co_await socket_.async_connect(server, use_result);
    co_return !ec;
  }
  asio::awaitable<void> send(Buffer bytes) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), use_result);
    EXPECT_FALSE(ec) << ec.message();
  }
  // Exactly n bytes, or fewer when the server closed first.
  asio::awaitable<Buffer> read(std::size_t n) {
    Buffer out(n, '\0');
    auto [ec, got] = co_await asio::async_read(socket_, asio::buffer(out), use_result);
    out.resize(got);
    co_return out;
  }
  asio::awaitable<std::string> read_all() {
    std::string out;
    auto [ec, got] = co_await asio::async_read(socket_, asio::dynamic_buffer(out), use_result);
    EXPECT_EQ(ec, asio::error::eof);
    co_return out;
  }

 private:
  tcp::socket socket_;
};

Buffer reply(Socks5Reply code) {
  const auto bytes = encode_socks5_reply(code);
  return Buffer(bytes.begin(), bytes.end());
}

struct CurlResult {
  int exit_code = -1;
  std::string body;
  std::string errors;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs the real curl as a child process while the io_context keeps serving:
// a timer polls for the child's exit instead of blocking the only thread.
asio::awaitable<CurlResult> run_curl(asio::io_context& io, const std::filesystem::path& dir,
                                     std::vector<std::string> args) {
  const auto out = dir / "curl.out";
  const auto err = dir / "curl.err";
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&files, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  args.insert(args.begin(), {"curl", "--silent", "--show-error", "--max-time", "20"});
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  // No proxy variables from the caller's environment: only what the test says.
  std::string path = "PATH=/usr/bin:/bin";
  char* envp[] = {path.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "curl", &files, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&files);
  CurlResult result;
  if (spawned != 0) {
    ADD_FAILURE() << "cannot run curl: " << std::strerror(spawned);
    co_return result;
  }
  asio::steady_timer poll(io);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    poll.expires_after(std::chrono::milliseconds(10));
    co_await poll.async_wait(use_result);
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.body = read_file(out);
  result.errors = read_file(err);
  co_return result;
}

class Socks5ServerTest : public ::testing::Test {
 protected:
  void start(Socks5ServerOptions options = {}) {
    options.listen = tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
    server_ = std::make_unique<Socks5Server>(io_, options, connector_);
    server_->publish_metrics(registry_);
    auto started = server_->start();
    ASSERT_TRUE(started.has_value()) << started.error().to_string();
  }

  void run(std::function<asio::awaitable<void>()> body) {
    std::exception_ptr failure;
    asio::co_spawn(io_, body(), [&](std::exception_ptr e) {
      failure = e;
      server_->stop();
      origin_.stop();
    });
    io_.run();
    if (failure) {
      std::rethrow_exception(failure);
    }
  }

  // Greeting with no-auth; checks the server picked it.
  asio::awaitable<void> greet(Client& client) {
    EXPECT_TRUE(co_await client.connect(server_->local_endpoint()));
    co_await client.send("\x05\x01\x00"s);
    EXPECT_EQ(co_await client.read(2), "\x05\x00"s);
  }

  asio::io_context io_;
  test::HttpOrigin origin_{io_, kBody};
  test::PipeConnector connector_{io_, origin_.port()};
  metrics::Registry registry_;  // outlives the server, which counts into it
  std::unique_ptr<Socks5Server> server_;
};

TEST_F(Socks5ServerTest, ConnectsToANameAndRelaysBothWays) {
  start();
  run([&]() -> asio::awaitable<void> {
    Client client(io_);
    co_await greet(client);
    co_await client.send(connect_domain("origin.test", 8080));
    EXPECT_EQ(co_await client.read(10), reply(Socks5Reply::kSucceeded));
    co_await client.send("GET /a HTTP/1.0\r\n\r\n");
    const std::string response = co_await client.read_all();
    EXPECT_TRUE(response.ends_with(kBody)) << response;
  });
  ASSERT_EQ(connector_.records().size(), 1u);
  EXPECT_EQ(connector_.records()[0].destination.host, "origin.test");
  EXPECT_EQ(connector_.records()[0].destination.type, Socks5AddressType::kDomain);
  EXPECT_EQ(connector_.records()[0].destination.port, 8080);
  EXPECT_EQ(connector_.records()[0].isolation, IsolationKey{});
  EXPECT_EQ(connector_.nodelay(), std::vector<bool>{true});
  EXPECT_EQ(server_->client_count(), 0u);
}

TEST_F(Socks5ServerTest, UserPassBecomesTheIsolationKey) {
  start();
  run([&]() -> asio::awaitable<void> {
    Client client(io_);
    EXPECT_TRUE(co_await client.connect(server_->local_endpoint()));
    co_await client.send("\x05\x02\x00\x02"s);
    EXPECT_EQ(co_await client.read(2), "\x05\x02"s);
    co_await client.send(
        "\x01\x03"
        "bob\x02"
        "pw"s);
    EXPECT_EQ(co_await client.read(2), "\x01\x00"s);
    co_await client.send("\x05\x01\x00\x01\xc0\x00\x02\x01\x00\x50"s);
    EXPECT_EQ(co_await client.read(10), reply(Socks5Reply::kSucceeded));
  });
  ASSERT_EQ(connector_.records().size(), 1u);
  EXPECT_EQ(connector_.records()[0].isolation, (IsolationKey{"bob", "pw"}));
  EXPECT_EQ(connector_.records()[0].destination.host, "192.0.2.1");
}

TEST_F(Socks5ServerTest, BytesSentBeforeTheReplyReachTheDestination) {
  start();
  run([&]() -> asio::awaitable<void> {
    Client client(io_);
    EXPECT_TRUE(co_await client.connect(server_->local_endpoint()));
    // Greeting, request and payload in one write, as an optimistic client does.
    Buffer all = "\x05\x01\x00"s;
    const Buffer request = connect_domain("origin.test", 80);
    all.insert(all.end(), request.begin(), request.end());
    const std::string get = "GET /early HTTP/1.0\r\n\r\n";
    all.insert(all.end(), get.begin(), get.end());
    co_await client.send(all);
    EXPECT_EQ(co_await client.read(2), "\x05\x00"s);
    EXPECT_EQ(co_await client.read(10), reply(Socks5Reply::kSucceeded));
    EXPECT_TRUE((co_await client.read_all()).ends_with(kBody));
  });
  ASSERT_EQ(origin_.requests().size(), 1u);
  EXPECT_TRUE(origin_.requests()[0].starts_with("GET /early"));
}

TEST_F(Socks5ServerTest, ConnectFailuresGetTheirReplyCodes) {
  struct Case {
    std::string host;
    Error error;
    Socks5Reply expected;
  };
  const std::vector<Case> cases = {
      {"refused.test",
       {ErrorCategory::kIo, ECONNREFUSED, "refused"},
       Socks5Reply::kConnectionRefused},
      {"host.test", {ErrorCategory::kIo, EHOSTUNREACH, "no route"}, Socks5Reply::kHostUnreachable},
      {"net.test", {ErrorCategory::kIo, ENETUNREACH, "no net"}, Socks5Reply::kNetworkUnreachable},
      {"policy.test",
       {ErrorCategory::kPermission, 0, "exit policy"},
       Socks5Reply::kNotAllowedByRuleset},
      {"slow.test", {ErrorCategory::kTimeout, 0, "exit timed out"}, Socks5Reply::kTtlExpired},
      {"bug.test", {ErrorCategory::kInternal, 0, "?"}, Socks5Reply::kGeneralFailure},
  };
  for (const Case& c : cases) {
    connector_.fail(c.host, c.error);
  }
  start();
  run([&]() -> asio::awaitable<void> {
    for (const Case& c : cases) {
      Client client(io_);
      co_await greet(client);
      co_await client.send(connect_domain(c.host, 443));
      EXPECT_EQ(co_await client.read(10), reply(c.expected)) << c.host;
      EXPECT_TRUE((co_await client.read(1)).empty()) << c.host;  // then closed
    }
  });
  const std::string text = registry_.prometheus_text();
  for (const char* label : {"connection_refused", "host_unreachable", "network_unreachable",
                            "not_allowed", "ttl_expired", "general_failure"}) {
    EXPECT_NE(text.find(std::string("\nnyx_socks_requests_total{reply=\"") + label + "\"} 1\n"),
              std::string::npos)
        << label << "\n"
        << text;
  }
  EXPECT_NE(text.find("\nnyx_socks_requests_total{reply=\"succeeded\"} 0\n"), std::string::npos)
      << text;
}

TEST_F(Socks5ServerTest, SlowConnectorGetsTtlExpired) {
  connector_.hang("hang.test");
  Socks5ServerOptions options;
  options.connect_timeout = std::chrono::milliseconds(30);
  start(options);
  run([&]() -> asio::awaitable<void> {
    Client client(io_);
    co_await greet(client);
    co_await client.send(connect_domain("hang.test", 80));
    EXPECT_EQ(co_await client.read(10), reply(Socks5Reply::kTtlExpired));
  });
}

TEST_F(Socks5ServerTest, UnsupportedCommandsAndAddressTypesAreAnsweredAndServingGoesOn) {
  start();
  run([&]() -> asio::awaitable<void> {
    for (std::uint8_t command : {std::uint8_t{0x02}, std::uint8_t{0x03}}) {
      Client client(io_);
      co_await greet(client);
      co_await client.send(connect_domain("origin.test", 80, command));
      EXPECT_EQ(co_await client.read(10), reply(Socks5Reply::kCommandNotSupported));
    }
    Client bad_type(io_);
    co_await greet(bad_type);
    co_await bad_type.send("\x05\x01\x00\x09\x01\x02\x03\x04"s);
    EXPECT_EQ(co_await bad_type.read(10), reply(Socks5Reply::kAddressTypeNotSupported));

    Client good(io_);
    co_await greet(good);
    co_await good.send(connect_domain("origin.test", 80));
    EXPECT_EQ(co_await good.read(10), reply(Socks5Reply::kSucceeded));
  });
  EXPECT_EQ(connector_.records().size(), 1u);  // refused requests never reach it
  const std::string text = registry_.prometheus_text();
  EXPECT_NE(text.find("\nnyx_socks_requests_total{reply=\"command_not_supported\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nnyx_socks_requests_total{reply=\"address_type_not_supported\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nnyx_socks_requests_total{reply=\"succeeded\"} 1\n"), std::string::npos)
      << text;
}

TEST_F(Socks5ServerTest, MalformedGreetingsAreClosed) {
  start();
  run([&]() -> asio::awaitable<void> {
    Client socks4(io_);
    EXPECT_TRUE(co_await socks4.connect(server_->local_endpoint()));
    co_await socks4.send("\x04\x01\x00\x50\x01\x02\x03\x04\x00"s);
    EXPECT_TRUE((co_await socks4.read(1)).empty());

    Client gssapi_only(io_);
    EXPECT_TRUE(co_await gssapi_only.connect(server_->local_endpoint()));
    co_await gssapi_only.send("\x05\x01\x01"s);
    EXPECT_EQ(co_await gssapi_only.read(3), "\x05\xff"s);

    Client bad_auth(io_);
    EXPECT_TRUE(co_await bad_auth.connect(server_->local_endpoint()));
    co_await bad_auth.send("\x05\x01\x02"s);
    EXPECT_EQ(co_await bad_auth.read(2), "\x05\x02"s);
    co_await bad_auth.send("\x07\x00\x00"s);
    EXPECT_EQ(co_await bad_auth.read(3), "\x01\x01"s);
  });
}

TEST_F(Socks5ServerTest, SilentClientIsCutOffAtTheHandshakeDeadline) {
  Socks5ServerOptions options;
  options.handshake_timeout = std::chrono::milliseconds(30);
  start(options);
  run([&]() -> asio::awaitable<void> {
    Client client(io_);
    EXPECT_TRUE(co_await client.connect(server_->local_endpoint()));
    co_await client.send("\x05\x01"s);  // half a greeting, then nothing
    EXPECT_TRUE((co_await client.read(1)).empty());
  });
  EXPECT_TRUE(connector_.records().empty());
}

TEST_F(Socks5ServerTest, ClientsBeyondTheLimitAreClosed) {
  Socks5ServerOptions options;
  options.max_clients = 1;
  start(options);
  run([&]() -> asio::awaitable<void> {
    Client first(io_);
    co_await greet(first);  // holds the only slot, mid-handshake
    Client second(io_);
    EXPECT_TRUE(co_await second.connect(server_->local_endpoint()));
    co_await second.send("\x05\x01\x00"s);
    EXPECT_TRUE((co_await second.read(2)).empty());
    EXPECT_EQ(server_->client_count(), 1u);
  });
}

TEST_F(Socks5ServerTest, BindFailureIsAnError) {
  start();
  Socks5ServerOptions options;
  options.listen = server_->local_endpoint();
  Socks5Server second(io_, options, connector_);
  auto started = second.start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().category, ErrorCategory::kIo);
  EXPECT_EQ(started.error().code, EADDRINUSE);
}

// The server proven with the real client: curl --socks5-hostname (socks5h)
// sends the name, never resolving it, and gets the origin's bytes exactly.
class Socks5CurlTest : public Socks5ServerTest {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  std::string proxy() const {
    return fmt::format("127.0.0.1:{}", server_->local_endpoint().port());
  }

  test::TempDir dir_;
};

TEST_F(Socks5CurlTest, DownloadsThroughSocks5Hostname) {
  start();
  CurlResult result;
  run([&]() -> asio::awaitable<void> {
    std::vector<std::string> args = {"--socks5-hostname", proxy(), "http://origin.test:8080/file"};
    result = co_await run_curl(io_, dir_.path(), std::move(args));
  });
  EXPECT_EQ(result.exit_code, 0) << result.errors;
  EXPECT_EQ(result.body, kBody);
  ASSERT_EQ(connector_.records().size(), 1u);
  EXPECT_EQ(connector_.records()[0].destination.type, Socks5AddressType::kDomain);
  EXPECT_EQ(connector_.records()[0].destination.host, "origin.test");
  EXPECT_EQ(connector_.records()[0].destination.port, 8080);
  ASSERT_EQ(origin_.requests().size(), 1u);
  EXPECT_NE(origin_.requests()[0].find("Host: origin.test:8080"), std::string::npos);
}

TEST_F(Socks5CurlTest, CredentialsBecomeTheIsolationKey) {
  start();
  CurlResult result;
  run([&]() -> asio::awaitable<void> {
    std::vector<std::string> args = {"--proxy", "socks5h://alice:secret@" + proxy(),
                                     "http://o.test/"};
    result = co_await run_curl(io_, dir_.path(), std::move(args));
  });
  EXPECT_EQ(result.exit_code, 0) << result.errors;
  EXPECT_EQ(result.body, kBody);
  ASSERT_EQ(connector_.records().size(), 1u);
  EXPECT_EQ(connector_.records()[0].isolation, (IsolationKey{"alice", "secret"}));
}

TEST_F(Socks5CurlTest, ReportsARefusedConnection) {
  connector_.fail("refused.test", {ErrorCategory::kIo, ECONNREFUSED, "refused"});
  start();
  CurlResult result;
  run([&]() -> asio::awaitable<void> {
    std::vector<std::string> args = {"--socks5-hostname", proxy(), "http://refused.test/"};
    result = co_await run_curl(io_, dir_.path(), std::move(args));
  });
  EXPECT_EQ(result.exit_code, 97) << result.errors;  // CURLE_PROXY
  EXPECT_NE(result.errors.find("(5)"), std::string::npos) << result.errors;
}

}  // namespace
}  // namespace nyx::daemon
