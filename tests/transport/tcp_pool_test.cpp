// TcpPool over real loopback connections.

#include "transport/tcp_pool.hpp"

#include <optional>

#include <gtest/gtest.h>

#include "transport/support/loopback.hpp"

namespace nyx::transport {
namespace {

using namespace std::chrono_literals;
using test::run_until;

struct PoolPair {
  asio::io_context io;
  crypto::X25519KeyPair server_key = crypto::X25519KeyPair::generate();
  crypto::X25519KeyPair client_key = crypto::X25519KeyPair::generate();
  TcpPool server;
  TcpPool client;
  std::vector<TcpLink*> accepted;
  asio::ip::tcp::endpoint server_end;

  explicit PoolPair(TcpPoolConfig client_config = {})
      : server(io, SteadyClock::instance(), server_key, {}),
        client(io, SteadyClock::instance(), client_key, client_config) {
    EXPECT_TRUE(server.listen({asio::ip::make_address("127.0.0.1"), 0}));
    server_end = *server.local_endpoint();
    server.set_accepted_handler([this](TcpLink& link) { accepted.push_back(&link); });
  }

  Result<TcpLink*> acquire(const PeerKey& peer) {
    std::optional<Result<TcpLink*>> result;
    client.acquire_async(peer, server_end, [&](Result<TcpLink*> r) { result = std::move(r); });
    EXPECT_TRUE(run_until(
        io, [&] { return result.has_value(); }, 10s));
    return result.value_or(make_error(ErrorCategory::kTimeout, "no answer"));
  }
};

TEST(TcpPoolTest, MissConnectsThenReleaseMakesAHit) {
  PoolPair p;
  auto link = p.acquire(p.server_key.public_key);
  ASSERT_TRUE(link) << link.error().to_string();
  EXPECT_TRUE((*link)->healthy());
  EXPECT_EQ((*link)->peer(), p.server_key.public_key);
  EXPECT_EQ(p.client.counters().misses, 1u);
  EXPECT_EQ(p.client.counters().connects, 1u);
  ASSERT_TRUE(run_until(
      p.io, [&] { return p.accepted.size() == 1; }, 10s));
  EXPECT_EQ(p.accepted[0]->peer(), p.client_key.public_key);  // learnt from message 3

  p.client.release(*link);
  EXPECT_EQ(p.client.idle_count(p.server_key.public_key), 1u);
  EXPECT_EQ(p.client.try_acquire(p.server_key.public_key), *link);
  EXPECT_EQ(p.client.counters().hits, 1u);
  EXPECT_EQ(p.client.try_acquire(p.server_key.public_key), nullptr);  // it is in use
}

TEST(TcpPoolTest, NeverHandsOutADeadConnection) {
  PoolPair p;
  auto link = p.acquire(p.server_key.public_key);
  ASSERT_TRUE(link);
  ASSERT_TRUE(run_until(
      p.io, [&] { return p.accepted.size() == 1; }, 10s));
  p.client.release(*link);
  p.accepted[0]->close();  // the server end resets
  // The client's pending read sees the EOF and takes the link out of the pool.
  ASSERT_TRUE(run_until(
      p.io, [&] { return p.client.size() == 0; }, 10s));
  EXPECT_EQ(p.client.try_acquire(p.server_key.public_key), nullptr);
  EXPECT_EQ(p.client.idle_count(p.server_key.public_key), 0u);
  // The next acquire connects afresh and gets a live link.
  auto fresh = p.acquire(p.server_key.public_key);
  ASSERT_TRUE(fresh);
  EXPECT_TRUE((*fresh)->healthy());
  EXPECT_EQ(p.client.counters().connects, 2u);
}

TEST(TcpPoolTest, WrongResponderKeyFailsAndBacksOff) {
  TcpPoolConfig config;
  config.connect_timeout = 500ms;
  config.backoff_initial = 10s;
  PoolPair p(config);
  const auto wrong = crypto::X25519KeyPair::generate();
  auto link = p.acquire(wrong.public_key);
  ASSERT_FALSE(link);
  EXPECT_EQ(p.client.counters().connect_failures, 1u);
  auto again = p.acquire(wrong.public_key);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().category, ErrorCategory::kResourceExhausted);  // backing off
  EXPECT_TRUE(p.accepted.empty());
}

TEST(TcpPoolTest, IdleLinksAreEvicted) {
  TcpPoolConfig config;
  config.idle_timeout = 40ms;
  config.upkeep_interval = 10ms;
  PoolPair p(config);
  auto link = p.acquire(p.server_key.public_key);
  ASSERT_TRUE(link);
  p.client.release(*link);
  ASSERT_TRUE(run_until(
      p.io, [&] { return p.client.counters().evictions == 1; }, 10s));
  EXPECT_EQ(p.client.try_acquire(p.server_key.public_key), nullptr);
}

TEST(TcpPoolTest, PerPeerLimitHolds) {
  TcpPoolConfig config;
  config.max_per_peer = 1;
  PoolPair p(config);
  auto first = p.acquire(p.server_key.public_key);
  ASSERT_TRUE(first);
  auto second = p.acquire(p.server_key.public_key);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().category, ErrorCategory::kResourceExhausted);
}

}  // namespace
// A pool destroyed while its connect's handshake waits (the peer accepts TCP
// but never answers) with the event loop running on: the acquire ends with
// kClosed and nothing reads the freed pool (ASan would report the handshake
// reading the pool's identity key, or the coroutine its tables).
TEST(TcpPoolTest, DestroyedWithAHandshakeInFlightTouchesNothing) {
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::optional<asio::ip::tcp::socket> held;  // accepted, never answered
  silent.async_accept([&](const asio::error_code& ec, asio::ip::tcp::socket s) {
    if (!ec) {
      held.emplace(std::move(s));
    }
  });
  const auto client_key = crypto::X25519KeyPair::generate();
  const auto responder = crypto::X25519KeyPair::generate().public_key;
  TcpPoolConfig config;
  config.connect_timeout = 10s;
  auto pool = std::make_unique<TcpPool>(io, SteadyClock::instance(), client_key, config);
  std::optional<Result<TcpLink*>> result;
  pool->acquire_async(responder, silent.local_endpoint(),
                      [&](Result<TcpLink*> r) { result = std::move(r); });
  ASSERT_TRUE(run_until(
      io, [&] { return held.has_value(); }, 10s));  // connected: the handshake waits
  pool.reset();
  ASSERT_TRUE(run_until(
      io, [&] { return result.has_value(); }, 5s));  // not the 10 s handshake timeout
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().category, ErrorCategory::kClosed);
}

}  // namespace nyx::transport
