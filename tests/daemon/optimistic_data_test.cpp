// Optimistic data on the data path (Tor proposal 181; docs/protocol.md,
// "Stream open (daemon)"): a SOCKS5 client's bytes that follow its CONNECT
// go up the stream behind the open request, before the exit's status, and
// `socks.optimistic_reply` answers the client before the exit does. Built as
// data_path_test.cpp builds its path (SocksBridge -> client CircuitSession
// -> an in-memory circuit -> the ExitConnector -> a TCP origin on loopback),
// but the circuit here delays every datagram by a fixed one-way time, so a
// path round trip is a known, countable quantity. Real sockets on
// 127.0.0.1, one io_context on the test's thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>

#include "async/timer_service.hpp"
#include "async/use_result.hpp"
#include "core/clock.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/circuit_session.hpp"
#include "daemon/exit_address_policy.hpp"
#include "daemon/exit_connector.hpp"
#include "daemon/socks5_server.hpp"
#include "daemon/socks_bridge.hpp"
#include "daemon/support/test_circuit_source.hpp"
#include "daemon/tcp_listener.hpp"

namespace nyx::daemon {
namespace {

using asio::ip::tcp;
using std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;
using async::use_result;

// Reads `expect` bytes (or to EOF) from each connection, records them and
// when the last came, answers `response` and closes.
class RecordingOrigin {
 public:
  struct Received {
    std::string bytes;
    TimePoint at;
  };

  RecordingOrigin(asio::io_context& io, std::size_t expect, std::string response)
      : io_(io),
        acceptor_(io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0)),
        expect_(expect),
        response_(std::move(response)) {
    asio::co_spawn(io_, accept_loop(), rethrow_escaped);
  }
  void stop() {
    std::error_code ignored;
    acceptor_.close(ignored);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  const std::vector<Received>& received() const { return received_; }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_result);
      if (ec) {
        co_return;
      }
      asio::co_spawn(io_, serve(std::move(socket)), rethrow_escaped);
    }
  }
  asio::awaitable<void> serve(tcp::socket socket) {
    std::string bytes(expect_, '\0');
    auto [ec, n] = co_await asio::async_read(socket, asio::buffer(bytes), use_result);
    bytes.resize(n);
    Received got;
    got.bytes = std::move(bytes);
    got.at = std::chrono::steady_clock::now();
    received_.push_back(std::move(got));
    co_await asio::async_write(socket, asio::buffer(response_), use_result);
    std::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    std::string rest(4096, '\0');
    (void)co_await socket.async_read_some(asio::buffer(rest), use_result);  // the client's end
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::size_t expect_;
  std::string response_;
  std::vector<Received> received_;
};

std::string pattern(std::size_t n, std::uint32_t seed) {
  std::string s(n, '\0');
  std::uint32_t x = seed;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

std::string socks_greeting() { return std::string("\x05\x01\x00", 3); }

// CONNECT 127.0.0.1:port.
std::string socks_connect(std::uint16_t port) {
  std::string out("\x05\x01\x00\x01\x7f\x00\x00\x01", 8);
  out.push_back(static_cast<char>(port >> 8));
  out.push_back(static_cast<char>(port & 0xff));
  return out;
}

enum class Client {
  kOptimistic,  // greeting, CONNECT and data in one write (Tor Browser)
  kWaiting,     // data only after the SOCKS reply (curl)
};

struct Exchange {
  std::uint8_t reply = 0xff;
  std::string response;
  bool reset = false;  // the connection ended with an error (an RST), not EOF
  TimePoint started;
  TimePoint replied;
  TimePoint first_byte;
};

// The SOCKS reply (after the method choice): its code, and when it came.
asio::awaitable<bool> read_reply(tcp::socket& s, Exchange& out) {
  std::uint8_t choice[2];
  auto [cec, cn] = co_await asio::async_read(s, asio::buffer(choice), use_result);
  if (cec) {
    co_return false;
  }
  std::uint8_t reply[10];
  auto [rec, rn] = co_await asio::async_read(s, asio::buffer(reply), use_result);
  if (rec) {
    co_return false;
  }
  out.replied = std::chrono::steady_clock::now();
  out.reply = reply[1];
  co_return true;
}

// Everything until EOF or an error, noting when the first byte came.
asio::awaitable<void> read_to_end(tcp::socket& s, Exchange& out) {
  std::vector<char> buf(64 << 10);
  for (;;) {
    auto [e, got] = co_await s.async_read_some(asio::buffer(buf), use_result);
    if (got > 0 && out.response.empty()) {
      out.first_byte = std::chrono::steady_clock::now();
    }
    out.response.append(buf.data(), got);
    if (e) {
      out.reset = e != asio::error::eof;
      co_return;
    }
  }
}

// A SOCKS5 client: CONNECT 127.0.0.1:port and send `data` (and, with
// half_close, its EOF), then read the reply and everything after it.
asio::awaitable<Exchange> socks_exchange(tcp::endpoint proxy, std::uint16_t port, std::string data,
                                         Client client, bool half_close = false) {
  Exchange out;
  out.started = std::chrono::steady_clock::now();
  tcp::socket s(co_await asio::this_coro::executor);
  auto [ec] = co_await s.async_connect(proxy, use_result);
  if (ec) {
    co_return out;
  }
  if (client == Client::kOptimistic) {
    const std::string all = socks_greeting() + socks_connect(port) + data;
    co_await asio::async_write(s, asio::buffer(all), use_result);
  } else {
    const std::string hello = socks_greeting() + socks_connect(port);
    co_await asio::async_write(s, asio::buffer(hello), use_result);
  }
  if (half_close) {
    std::error_code ignored;
    s.shutdown(tcp::socket::shutdown_send, ignored);
  }
  const bool replied = co_await read_reply(s, out);
  if (!replied) {
    co_return out;
  }
  if (client == Client::kWaiting && out.reply == 0) {
    co_await asio::async_write(s, asio::buffer(data), use_result);
  }
  co_await read_to_end(s, out);
  co_return out;
}

double ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

class OptimisticDataTest : public ::testing::Test {
 protected:
  // A path whose datagrams take `delay` each way; the origin reads
  // `expect` bytes per connection.
  void start(milliseconds delay, std::size_t expect, bool optimistic_reply = false) {
    delay_ = delay;
    origin_ = std::make_unique<RecordingOrigin>(io_, expect, response_);
    auto policy = ExitAddressPolicy::parse("reject *:9, accept *:*", {.allow_private = true});
    ASSERT_TRUE(policy);
    policy_ = std::move(*policy);
    exit_ = std::make_unique<ExitConnector>(
        io_, SteadyClock::instance(), async::SteadyTimers::instance(), policy_,
        ExitConnectorOptions{.connect_timeout = std::chrono::seconds(5)});
    exit_->publish_metrics(registry_);
    source_ = std::make_unique<TestSource>(io_, *exit_, delay);
    bridge_ = std::make_unique<SocksBridge>(*source_);
    Socks5ServerOptions options;
    options.listen = tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
    options.optimistic_reply = optimistic_reply;
    server_ = std::make_unique<Socks5Server>(io_, options, *bridge_);
    ASSERT_TRUE(server_->start());
  }

  // Runs body, lets the streams it opened end, then stops and drains.
  void run(std::function<asio::awaitable<void>()> body) {
    bool done = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          co_await body();
          asio::steady_timer pause(io_);
          for (int i = 0; i < 200 && source_->open_ != 0; ++i) {
            pause.expires_after(milliseconds(10));
            co_await pause.async_wait(asio::use_awaitable);
          }
        },
        [&](std::exception_ptr e) {
          done = true;
          if (e) {
            ADD_FAILURE() << "exception";
          }
          server_->stop();
          origin_->stop();
          exit_->stop();
          source_->stop();
        });
    io_.run_for(std::chrono::seconds(60));
    EXPECT_TRUE(done) << "timed out";
  }

  // A port where nothing listens: the exit's connect is refused.
  std::uint16_t refused_port() {
    tcp::acceptor closed(io_, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    const auto port = closed.local_endpoint().port();
    closed.close();
    return port;
  }

  std::uint64_t exit_connects(const std::string& result) {
    return registry_.counter("nyx_exit_connects_total", "", {{"result", result}}).value();
  }

  tcp::endpoint proxy() const { return server_->local_endpoint(); }
  milliseconds round_trip() const { return 2 * delay_; }

  asio::io_context io_;
  milliseconds delay_{0};
  const std::string response_ = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  std::unique_ptr<RecordingOrigin> origin_;
  ExitAddressPolicy policy_;
  metrics::Registry registry_;  // outlives the connector, which counts into it
  std::unique_ptr<ExitConnector> exit_;
  std::unique_ptr<TestSource> source_;
  std::unique_ptr<SocksBridge> bridge_;
  std::unique_ptr<Socks5Server> server_;
};

// (a) The request the client sent with its CONNECT leaves behind the open
// request: it reaches the origin byte-exact before the exit's status is
// back at the entry, and the first response byte arrives one path round
// trip after the client started (two, before optimistic data).
TEST_F(OptimisticDataTest, BytesBeforeTheReplyCostOnePathRoundTrip) {
  const std::string request = "GET / HTTP/1.0\r\nX-Pad: " + pattern(2000, 7) + "\r\n\r\n";
  start(milliseconds(100), request.size());
  Exchange r;
  run([&]() -> asio::awaitable<void> {
    r = co_await socks_exchange(proxy(), origin_->port(), request, Client::kOptimistic);
  });
  EXPECT_EQ(r.reply, 0);
  EXPECT_FALSE(r.reset);
  EXPECT_EQ(r.response, response_);
  ASSERT_EQ(origin_->received().size(), 1u);
  EXPECT_TRUE(origin_->received()[0].bytes == request) << "not byte-exact";
  // Order of events: the request was at the origin before the status (which
  // the SOCKS reply waits for) was back at the entry.
  EXPECT_LT(origin_->received()[0].at, r.replied);
  const auto ttfb = r.first_byte - r.started;
  EXPECT_GE(ttfb, round_trip()) << ms(ttfb) << " ms";
  EXPECT_LT(ttfb, round_trip() * 3 / 2) << ms(ttfb) << " ms: more than one path round trip";
  EXPECT_EQ(source_->built_, 1);
  EXPECT_EQ(source_->open_, 0);
}

// More than the entry sends before the status (64 KiB), followed by the
// client's EOF: everything arrives in order, byte for byte, once.
TEST_F(OptimisticDataTest, EarlyBytesBeyondTheLimitAndTheirEofArriveByteExact) {
  const std::string request = pattern(200u << 10, 11);
  start(milliseconds(5), request.size());
  Exchange r;
  run([&]() -> asio::awaitable<void> {
    r = co_await socks_exchange(proxy(), origin_->port(), request, Client::kOptimistic,
                                /*half_close=*/true);
  });
  EXPECT_EQ(r.reply, 0);
  EXPECT_EQ(r.response, response_);
  ASSERT_EQ(origin_->received().size(), 1u);
  EXPECT_EQ(origin_->received()[0].bytes.size(), request.size());
  EXPECT_TRUE(origin_->received()[0].bytes == request) << "not byte-exact";
}

// (b) A refused connect with early bytes: the client gets "connection
// refused" (0x05), the bytes reach no one, and the circuit is not given up
// (a failure status is an answer, not a reason to try another circuit).
TEST_F(OptimisticDataTest, RefusedConnectIsConnectionRefusedAndDropsTheEarlyBytes) {
  const std::string first = "GET /first HTTP/1.0\r\n\r\n" + pattern(3000, 3);
  const std::string second = "GET /second HTTP/1.0\r\n\r\n";
  start(milliseconds(20), second.size());
  const auto port = refused_port();
  Exchange refused;
  Exchange ok;
  run([&]() -> asio::awaitable<void> {
    refused = co_await socks_exchange(proxy(), port, first, Client::kOptimistic);
    ok = co_await socks_exchange(proxy(), origin_->port(), second, Client::kOptimistic);
  });
  EXPECT_EQ(refused.reply, 0x05);
  EXPECT_TRUE(refused.response.empty());
  EXPECT_EQ(ok.reply, 0);
  EXPECT_EQ(ok.response, response_);
  // The origin saw the second stream's bytes and nothing of the first.
  ASSERT_EQ(origin_->received().size(), 1u);
  EXPECT_TRUE(origin_->received()[0].bytes == second);
  EXPECT_EQ(exit_connects("refused"), 1u);
  EXPECT_EQ(exit_connects("succeeded"), 1u);
  EXPECT_EQ(source_->built_, 1);
  EXPECT_EQ(source_->open_, 0);
}

// The circuit ends before the exit answered: the stream is opened again on
// a new circuit with every byte the client had sent, which reach the origin
// once, byte-exact.
TEST_F(OptimisticDataTest, CircuitLostBeforeTheStatusRetriesWithTheSameBytes) {
  const std::string request = "GET / HTTP/1.0\r\n\r\n" + pattern(5000, 5);
  start(milliseconds(60), request.size());
  Exchange r;
  run([&]() -> asio::awaitable<void> {
    asio::steady_timer later(io_, milliseconds(20));  // the request is on its way, not there
    later.async_wait([&](const std::error_code& ec) {
      if (!ec) {
        source_->destroy();
      }
    });
    r = co_await socks_exchange(proxy(), origin_->port(), request, Client::kOptimistic);
  });
  EXPECT_EQ(r.reply, 0);
  EXPECT_EQ(r.response, response_);
  ASSERT_EQ(origin_->received().size(), 1u);
  EXPECT_TRUE(origin_->received()[0].bytes == request) << "not byte-exact";
  EXPECT_EQ(source_->built_, 2);
  EXPECT_EQ(source_->open_, 0);
}

// With socks.optimistic_reply a client that waits for the reply (curl) gets
// it before the exit answered, so its request too costs one round trip.
TEST_F(OptimisticDataTest, OptimisticReplyGivesAWaitingClientOneRoundTrip) {
  const std::string request = "GET / HTTP/1.0\r\n\r\n";
  start(milliseconds(100), request.size(), /*optimistic_reply=*/true);
  Exchange r;
  run([&]() -> asio::awaitable<void> {
    r = co_await socks_exchange(proxy(), origin_->port(), request, Client::kWaiting);
  });
  EXPECT_EQ(r.reply, 0);
  EXPECT_LT(r.replied - r.started, round_trip() / 2) << "the reply waited for the exit";
  EXPECT_EQ(r.response, response_);
  ASSERT_EQ(origin_->received().size(), 1u);
  EXPECT_TRUE(origin_->received()[0].bytes == request);
  const auto ttfb = r.first_byte - r.started;
  EXPECT_LT(ttfb, round_trip() * 3 / 2) << ms(ttfb) << " ms: more than one path round trip";
}

// (c) With socks.optimistic_reply a refused connect, reported after the
// success reply, closes the client's connection abortively: an RST, no
// byte, never a clean end that could pass for an empty response.
TEST_F(OptimisticDataTest, OptimisticReplyThenRefusedConnectResetsTheClient) {
  start(milliseconds(60), 1, /*optimistic_reply=*/true);
  const auto port = refused_port();
  Exchange r;
  run([&]() -> asio::awaitable<void> {
    r = co_await socks_exchange(proxy(), port, "GET / HTTP/1.0\r\n\r\n", Client::kWaiting);
  });
  EXPECT_EQ(r.reply, 0);
  EXPECT_LT(r.replied - r.started, round_trip() / 2) << "the reply waited for the exit";
  EXPECT_TRUE(r.response.empty());
  EXPECT_TRUE(r.reset) << "the connection ended cleanly, not with an RST";
  EXPECT_EQ(exit_connects("refused"), 1u);
  EXPECT_TRUE(origin_->received().empty());
  EXPECT_EQ(source_->open_, 0);
}

}  // namespace
}  // namespace nyx::daemon
