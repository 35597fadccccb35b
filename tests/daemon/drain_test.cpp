// The shutdown drain on the data path's gates: the SOCKS5 server's relays
// and the exit connector's streams, as CellShard's drain awaits them. A
// stream in flight holds the drain exactly until it closes, however early
// that is; one that never closes is bounded by the deadline, after which
// closing the circuits ends it. The data path of SocksExitFixture (SOCKS
// client -> SocksBridge -> in-memory circuit -> ExitConnector -> a loopback
// origin); one io_context on the test's thread, real sockets, a 1 s deadline.

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <optional>

#include <asio/co_spawn.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>

#include "async/use_result.hpp"
#include "async/with_deadline.hpp"
#include "daemon/support/socks_exit_fixture.hpp"

namespace nyx::daemon {
namespace {

using asio::ip::tcp;
using async::use_result;

constexpr auto kDeadline = std::chrono::seconds(1);

class DrainTest : public SocksExitFixture {
 protected:
  DrainTest() : SocksExitFixture("unused") {}
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(wire("accept *:*")); }

  // A SOCKS client whose stream reaches the origin and then stays open, idle
  // (the origin waits for a request that does not come); nullopt if the
  // stream did not open.
  asio::awaitable<std::optional<tcp::socket>> open_idle_stream() {
    tcp::socket client(co_await asio::this_coro::executor);
    auto [ec] = co_await client.async_connect(server_->local_endpoint(), use_result);
    if (ec) {
      co_return std::nullopt;
    }
    const std::uint16_t port = origin_.port();
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
    auto [wec, written] = co_await asio::async_write(client, asio::buffer(hello), use_result);
    std::uint8_t reply[12] = {};
    auto [rec, read] = co_await asio::async_read(client, asio::buffer(reply), use_result);
    if (wec || rec || reply[3] != 0) {
      co_return std::nullopt;
    }
    co_return std::move(client);
  }

  // The drain of CellShard::drain(): nothing new accepted, then the relays
  // and the exit's streams awaited under the deadline.
  asio::awaitable<std::expected<void, std::error_code>> drain() {
    server_->stop();
    exit_->stop_accepting();
    co_return co_await async::with_deadline(streams_ended(), kDeadline);
  }

  asio::awaitable<void> streams_ended() {
    co_await server_->relays_ended();
    co_await exit_->streams_ended();
  }

  // Closes what is left, as the drain's end does: the exit's sessions, the
  // client's circuit (as a DESTROY would), the origin.
  void close_all() {
    exit_->stop();
    if (source_->built_ > 0) {
      source_->destroy();
    }
    origin_.stop();
  }

  void run(std::function<asio::awaitable<void>()> body) {
    bool done = false;
    asio::co_spawn(io_, body(), [&](std::exception_ptr e) {
      done = true;
      EXPECT_FALSE(e);
      server_->stop();
      close_all();
    });
    io_.run_for(std::chrono::seconds(30));
    EXPECT_TRUE(done) << "timed out";
  }
};

TEST_F(DrainTest, EndsWhenTheLastStreamClosesNotAtTheDeadline) {
  run([&]() -> asio::awaitable<void> {
    auto client = co_await open_idle_stream();
    EXPECT_TRUE(client.has_value());
    if (!client) {
      co_return;
    }
    EXPECT_EQ(exit_->stream_count(), 1u);
    const auto started = std::chrono::steady_clock::now();
    // The application hangs up just as the drain begins: the drain must end
    // with the stream, through both gates, and not wait for the deadline.
    client->close();
    const auto drained = co_await drain();
    EXPECT_TRUE(drained.has_value()) << "the drain ran into its deadline";
    EXPECT_LT(std::chrono::steady_clock::now() - started, kDeadline);
    EXPECT_EQ(exit_->stream_count(), 0u);
    EXPECT_EQ(server_->client_count(), 0u);
  });
}

TEST_F(DrainTest, AStreamThatNeverClosesIsBoundedByTheDeadline) {
  run([&]() -> asio::awaitable<void> {
    auto client = co_await open_idle_stream();
    EXPECT_TRUE(client.has_value());
    if (!client) {
      co_return;
    }
    const auto started = std::chrono::steady_clock::now();
    const auto drained = co_await drain();
    EXPECT_FALSE(drained.has_value()) << "the drain ended with the stream still open";
    if (!drained) {
      EXPECT_EQ(drained.error(), asio::error::timed_out);
    }
    EXPECT_GE(std::chrono::steady_clock::now() - started, kDeadline);
    EXPECT_EQ(exit_->stream_count(), 1u);  // still piping: only the deadline ended the wait
    // Past the deadline the circuits close under the stream, and the gates
    // then let the drain's second wait through.
    close_all();
    const auto closed = co_await async::with_deadline(streams_ended(), kDeadline);
    EXPECT_TRUE(closed.has_value()) << "closing the circuits did not end the stream";
  });
}

TEST_F(DrainTest, NoNewStreamIsTakenWhileDraining) {
  run([&]() -> asio::awaitable<void> {
    const tcp::endpoint socks_port = server_->local_endpoint();
    server_->stop();
    exit_->stop_accepting();
    tcp::socket late(co_await asio::this_coro::executor);
    auto [ec] = co_await late.async_connect(socks_port, use_result);
    EXPECT_TRUE(ec) << "the SOCKS port still accepts while draining";
    // Nothing was in flight: both gates are through at once.
    const auto drained = co_await async::with_deadline(streams_ended(), kDeadline);
    EXPECT_TRUE(drained.has_value());
  });
}

}  // namespace
}  // namespace nyx::daemon
