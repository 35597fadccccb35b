// The data path from a SOCKS5 client to an origin and back: SocksBridge ->
// CircuitSession (initiator) -> an in-memory datagram channel standing for
// the circuit -> CircuitSession (responder) in the ExitConnector -> a real
// TCP connection to a loopback origin. Real sockets on 127.0.0.1, one
// io_context on the test's thread.

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>

#include "async/use_result.hpp"
#include "daemon/support/socks_exit_fixture.hpp"

namespace nyx::daemon {
namespace {

using asio::ip::tcp;
using async::use_result;

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  std::uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

struct SocksResult {
  std::uint8_t reply = 0xff;
  std::string body;
  bool error = false;  // the connection ended with an error, not EOF
};

// A minimal SOCKS5 client: no-auth, CONNECT 127.0.0.1:port, an HTTP/1.0
// request, then everything until EOF.
asio::awaitable<SocksResult> socks_get(tcp::endpoint proxy, std::uint16_t port,
                                       std::function<void()> after_first_bytes = nullptr) {
  SocksResult result;
  tcp::socket s(co_await asio::this_coro::executor);
  auto [ec] = co_await s.async_connect(proxy, use_result);
  if (ec) {
    co_return result;
  }
  const std::uint8_t hello[] = {5,
                                1,
                                0,
                                5,
                                1,
                                0,
                                1,
                                127,
                                0,
                                0,
                                1,
                                static_cast<std::uint8_t>(port >> 8),
                                static_cast<std::uint8_t>(port & 0xff)};
  co_await asio::async_write(s, asio::buffer(hello), use_result);
  std::uint8_t reply[12];
  auto [rec, n] = co_await asio::async_read(s, asio::buffer(reply), use_result);
  if (rec) {
    co_return result;
  }
  result.reply = reply[3];
  if (result.reply != 0) {
    co_return result;
  }
  const std::string get = "GET / HTTP/1.0\r\n\r\n";
  co_await asio::async_write(s, asio::buffer(get), use_result);
  std::vector<char> buf(64 << 10);
  for (;;) {
    auto [e, got] = co_await s.async_read_some(asio::buffer(buf), use_result);
    result.body.append(buf.data(), got);
    if (after_first_bytes && !result.body.empty()) {
      std::exchange(after_first_bytes, nullptr)();
    }
    if (e) {
      result.error = e != asio::error::eof;
      break;
    }
  }
  co_return result;
}

class DataPathTest : public SocksExitFixture {
 protected:
  explicit DataPathTest(std::size_t body_size = 10u << 20) : SocksExitFixture(pattern(body_size)) {}

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(wire("reject *:9, accept *:*",
                                 ExitConnectorOptions{.connect_timeout = std::chrono::seconds(5)},
                                 true));
  }

  // Runs body on the io_context, lets the streams it opened end (the pipes
  // release their circuit a moment after the client saw the last byte), then
  // stops everything and drains.
  void run(std::function<asio::awaitable<void>()> body) {
    bool done = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          co_await body();
          asio::steady_timer pause(io_);
          for (int i = 0; i < 200 && source_->open_ != 0; ++i) {
            pause.expires_after(std::chrono::milliseconds(10));
            co_await pause.async_wait(use_result);
          }
        },
        [&](std::exception_ptr e) {
          done = true;
          if (e) {
            ADD_FAILURE() << "exception";
          }
          server_->stop();
          origin_.stop();
          exit_->stop();
          source_->stop();
        });
    io_.run_for(std::chrono::seconds(60));
    EXPECT_TRUE(done) << "timed out";
  }

  std::uint64_t exit_connects(const std::string& result) {
    return registry_.counter("nyx_exit_connects_total", "", {{"result", result}}).value();
  }

  std::string response_body(const std::string& response) {
    const auto at = response.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : response.substr(at + 4);
  }
};

TEST_F(DataPathTest, DownloadsTenMebibytesByteExact) {
  run([&]() -> asio::awaitable<void> {
    auto r = co_await socks_get(server_->local_endpoint(), origin_.port());
    EXPECT_EQ(r.reply, 0);
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.body.size() > body_.size(), true);
    EXPECT_TRUE(response_body(r.body) == body_);
  });
  EXPECT_EQ(source_->open_, 0);
}

TEST_F(DataPathTest, PolicyRefusalIsNotAllowedByRuleset) {
  run([&]() -> asio::awaitable<void> {
    auto r = co_await socks_get(server_->local_endpoint(), 9);
    EXPECT_EQ(r.reply, 0x02);
  });
  EXPECT_EQ(exit_connects("not_allowed"), 1u);
  EXPECT_EQ(exit_connects("succeeded"), 0u);
}

TEST_F(DataPathTest, RefusedConnectIsConnectionRefused) {
  tcp::acceptor closed(io_, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
  const auto port = closed.local_endpoint().port();
  closed.close();
  run([&]() -> asio::awaitable<void> {
    auto r = co_await socks_get(server_->local_endpoint(), port);
    EXPECT_EQ(r.reply, 0x05);
    // The node keeps serving on the same circuit.
    auto ok = co_await socks_get(server_->local_endpoint(), origin_.port());
    EXPECT_EQ(ok.reply, 0);
    EXPECT_TRUE(response_body(ok.body) == body_);
  });
  EXPECT_EQ(source_->built_, 1);
  EXPECT_EQ(exit_connects("refused"), 1u);
  EXPECT_EQ(exit_connects("succeeded"), 1u);
}

TEST_F(DataPathTest, DestroyedCircuitFailsItsStreamAndTheNextUsesANewOne) {
  run([&]() -> asio::awaitable<void> {
    auto broken =
        co_await socks_get(server_->local_endpoint(), origin_.port(), [&] { source_->destroy(); });
    EXPECT_EQ(broken.reply, 0);
    EXPECT_LT(broken.body.size(), body_.size());
    auto next = co_await socks_get(server_->local_endpoint(), origin_.port());
    EXPECT_EQ(next.reply, 0);
    EXPECT_TRUE(response_body(next.body) == body_);
  });
  EXPECT_EQ(source_->built_, 2);
  EXPECT_EQ(source_->open_, 0);
}

class DataPathConcurrentTest : public DataPathTest {
 protected:
  DataPathConcurrentTest() : DataPathTest(256u << 10) {}
};

TEST_F(DataPathConcurrentTest, TwentyConcurrentStreamsByteExact) {
  int finished = 0;
  int exact = 0;
  run([&]() -> asio::awaitable<void> {
    asio::steady_timer all_done(io_);
    all_done.expires_at(asio::steady_timer::time_point::max());
    for (int i = 0; i < 20; ++i) {
      asio::co_spawn(
          io_,
          [&]() -> asio::awaitable<void> {
            auto r = co_await socks_get(server_->local_endpoint(), origin_.port());
            exact += r.reply == 0 && response_body(r.body) == body_ ? 1 : 0;
            if (++finished == 20) {
              all_done.cancel();
            }
          },
          [](std::exception_ptr) {});
    }
    (void)co_await all_done.async_wait(use_result);
  });
  EXPECT_EQ(finished, 20);
  EXPECT_EQ(exact, 20);
  EXPECT_EQ(source_->built_, 1);
}

}  // namespace
}  // namespace nyx::daemon
