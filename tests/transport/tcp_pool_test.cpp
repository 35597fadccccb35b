// TcpPool over real loopback connections, on simulated time: the upkeep
// tick, the back-off and the connect deadline move with the test's clock.

#include "transport/tcp_pool.hpp"

#include <optional>

#include <gtest/gtest.h>

#include "support/run_until.hpp"
#include "transport/support/loopback.hpp"

namespace nyx::transport {
namespace {

using namespace std::chrono_literals;
using nyx::test::run_for;
using nyx::test::run_until;

struct PoolPair : test::SimulatedTime {
  crypto::X25519KeyPair server_key = crypto::X25519KeyPair::generate();
  crypto::X25519KeyPair client_key = crypto::X25519KeyPair::generate();
  TcpPool server;
  TcpPool client;
  std::vector<TcpLink*> accepted;
  asio::ip::tcp::endpoint server_end;

  explicit PoolPair(TcpPoolConfig client_config = {})
      : server(io, clock, timers, server_key, {}),
        client(io, clock, timers, client_key, client_config) {
    EXPECT_TRUE(server.listen({asio::ip::make_address("127.0.0.1"), 0}));
    server_end = *server.local_endpoint();
    server.set_accepted_handler([this](TcpLink& link) { accepted.push_back(&link); });
  }

  Result<TcpLink*> acquire(const PeerKey& peer) {
    std::optional<Result<TcpLink*>> result;
    client.acquire_async(peer, server_end, [&](Result<TcpLink*> r) { result = std::move(r); });
    EXPECT_TRUE(run_until(
        io, timers, [&] { return result.has_value(); }, 10s));
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
      p.io, p.timers, [&] { return p.accepted.size() == 1; }, 10s));
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
      p.io, p.timers, [&] { return p.accepted.size() == 1; }, 10s));
  p.client.release(*link);
  p.accepted[0]->close();  // the server end resets
  // The client's pending read sees the EOF and takes the link out of the pool
  // (before any upkeep tick probes it: simulated time stands still meanwhile).
  const Nanos before = p.clock.now();
  ASSERT_TRUE(run_until(
      p.io, p.timers, [&] { return p.client.size() == 0; }, 10s));
  EXPECT_LT(p.clock.now() - before, TcpPoolConfig{}.upkeep_interval);
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
  // The back-off is 10 s with jitter in [0.5, 1.5): still on at 4.9 s, over
  // by 15 s, when the next acquire connects (and fails) again.
  run_for(p.io, p.timers, 4900ms);
  auto early = p.acquire(wrong.public_key);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().category, ErrorCategory::kResourceExhausted);
  run_for(p.io, p.timers, 10100ms);
  auto retried = p.acquire(wrong.public_key);
  ASSERT_FALSE(retried);
  EXPECT_NE(retried.error().category, ErrorCategory::kResourceExhausted);
  EXPECT_EQ(p.client.counters().connect_failures, 2u);
  EXPECT_TRUE(p.accepted.empty());
}

TEST(TcpPoolTest, IdleLinksAreEvicted) {
  TcpPoolConfig config;
  config.idle_timeout = 40s;
  config.upkeep_interval = 1s;
  PoolPair p(config);
  auto link = p.acquire(p.server_key.public_key);
  ASSERT_TRUE(link);
  p.client.release(*link);
  run_for(p.io, p.timers, 39s);
  EXPECT_EQ(p.client.counters().evictions, 0u);
  EXPECT_EQ(p.client.idle_count(p.server_key.public_key), 1u);
  run_for(p.io, p.timers, 2s);
  EXPECT_EQ(p.client.counters().evictions, 1u);
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
  test::SimulatedTime sim;
  auto& io = sim.io;
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
  auto pool = std::make_unique<TcpPool>(io, sim.clock, sim.timers, client_key, config);
  std::optional<Result<TcpLink*>> result;
  pool->acquire_async(responder, silent.local_endpoint(),
                      [&](Result<TcpLink*> r) { result = std::move(r); });
  ASSERT_TRUE(run_until(
      io, sim.timers, [&] { return held.has_value(); }, 5s));  // connected: the handshake waits
  pool.reset();
  ASSERT_TRUE(run_until(
      io, sim.timers, [&] { return result.has_value(); }, 5s));  // not the 10 s timeout
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().category, ErrorCategory::kClosed);
}

}  // namespace nyx::transport
