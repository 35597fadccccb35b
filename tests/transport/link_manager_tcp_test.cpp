// LinkManager over TCP (UDP off at the initiator, or no UDP endpoint known).

#include <array>
#include <memory>

#include <asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include "support/run_until.hpp"
#include "transport/link_manager.hpp"
#include "transport/support/loopback.hpp"

namespace nyx::transport {
namespace {

using namespace std::chrono_literals;
using nyx::test::run_until;
using test::cell_matches;
using test::fill_cell;
using test::SimulatedTime;

LinkConfig tcp_config(bool listen) {
  LinkConfig c;
  c.udp_enabled = false;
  if (listen) {
    c.tcp_listen = asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0};
  }
  c.tick = 10ms;
  return c;
}

struct Side {
  PeerKey public_key;
  std::unique_ptr<LinkManager> links;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint64_t bad = 0;
  bool up = false;
  bool down = false;
  PeerKey up_peer{};  // the key the last link that came up showed

  Side(asio::io_context& io, LinkConfig config, std::uint64_t expect_stream,
       const Clock& clock = SteadyClock::instance(),
       async::TimerService& timers = async::SteadyTimers::instance(),
       crypto::X25519KeyPair key = crypto::X25519KeyPair::generate())
      : public_key(key.public_key) {
    auto created = LinkManager::create(io, clock, timers, std::move(key), config);
    EXPECT_TRUE(created) << created.error().to_string();
    links = std::move(*created);
    links->set_event_handler([this](const PeerKey& peer, LinkKind kind, LinkEvent e) {
      EXPECT_EQ(kind, LinkKind::kTcp);
      up = up || e == LinkEvent::kUp;
      down = down || e == LinkEvent::kDown;
      if (e == LinkEvent::kUp) {
        up_peer = peer;
      }
    });
    links->set_cell_handler([this, expect_stream](std::span<const ReceivedCell> cells) {
      for (const auto& c : cells) {
        bad += cell_matches(c.cell, expect_stream, received) ? 0u : 1u;
        ++received;
      }
    });
  }
};

TEST(LinkManagerTcpTest, HandshakeAndBulkCellsEachWayByteExact) {
  asio::io_context io;
  Side a(io, tcp_config(false), 2);
  Side b(io, tcp_config(true), 1);
  a.links->add_peer(b.public_key, PeerEndpoints{{}, b.links->tcp_local_endpoint()});
  const std::uint64_t count = test::kBulkCells;
  std::array<std::uint8_t, kCellSize> cell{};
  // Send until the link's bounded buffer refuses, then again when it drains.
  auto pump = [&] {
    while (a.sent < count) {
      fill_cell(cell.data(), 1, a.sent);
      const auto r = a.links->send(b.public_key, cell);
      if (r != SendResult::kSent && r != SendResult::kQueued) {
        break;
      }
      ++a.sent;
      if (!a.up) {
        break;  // one queued cell starts the handshake; the rest waits for it
      }
    }
    while (b.up && b.sent < count) {
      fill_cell(cell.data(), 2, b.sent);
      if (b.links->send(a.public_key, cell) != SendResult::kSent) {
        break;
      }
      ++b.sent;
    }
  };
  asio::steady_timer timer(io);
  std::function<void()> tick = [&] {
    pump();
    timer.expires_after(1ms);
    timer.async_wait([&](asio::error_code ec) {
      if (!ec) {
        tick();
      }
    });
  };
  tick();
  ASSERT_TRUE(run_until(
      io, [&] { return a.received == count && b.received == count; }, 300s))
      << "a got " << a.received << ", b got " << b.received;
  timer.cancel();
  EXPECT_EQ(a.bad, 0u);
  EXPECT_EQ(b.bad, 0u);
  EXPECT_TRUE(a.up);
  EXPECT_TRUE(b.up);
  const auto stats = a.links->stats(b.public_key);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->kind, LinkKind::kTcp);
  EXPECT_EQ(stats->cells_sent, count);
  EXPECT_EQ(stats->cells_received, count);
}

TEST(LinkManagerTcpTest, FallsBackToTcpWhenTheUdpHandshakeFails) {
  SimulatedTime sim;
  auto a_config = tcp_config(false);
  a_config.udp_enabled = true;
  a_config.udp_listen = {asio::ip::make_address("127.0.0.1"), 0};
  a_config.handshake_timeout = 200ms;
  a_config.handshake_retry = 50ms;
  Side a(sim.io, a_config, 2, sim.clock, sim.timers);
  Side b(sim.io, tcp_config(true), 1, sim.clock, sim.timers);
  // b has no UDP socket: the UDP endpoint a was given never answers.
  asio::ip::udp::socket silent(sim.io, {asio::ip::make_address("127.0.0.1"), 0});
  a.links->add_peer(b.public_key,
                    PeerEndpoints{silent.local_endpoint(), b.links->tcp_local_endpoint()});
  std::array<std::uint8_t, kCellSize> cell{};
  fill_cell(cell.data(), 1, 0);
  const Nanos start = sim.clock.now();
  EXPECT_EQ(a.links->send(b.public_key, cell), SendResult::kQueued);
  ASSERT_TRUE(run_until(
      sim.io, sim.timers, [&] { return b.received == 1; }, 10s));
  EXPECT_EQ(b.bad, 0u);
  EXPECT_EQ(a.links->stats(b.public_key)->kind, LinkKind::kTcp);
  // TCP was tried once the UDP handshake timed out, not at the retransmission
  // after (350 ms); a tick or a few of slack for the TCP connect.
  EXPECT_GE(sim.clock.now() - start, a_config.handshake_timeout);
  EXPECT_LT(sim.clock.now() - start, a_config.handshake_timeout + 100ms);
}

// A client's TCP links (fresh_initiator_keys) show the responder a key of
// their own, and the next link after one closed another.
TEST(LinkManagerTcpTest, ClientLinksShowEachNewLinkAFreshStatic) {
  SimulatedTime sim;
  auto client_config = tcp_config(false);
  client_config.fresh_initiator_keys = true;
  std::array<std::uint8_t, crypto::kX25519KeySize> secret{};
  secret.fill(0x3c);
  const auto responder_key = [&] { return crypto::X25519KeyPair::from_secret(secret); };
  Side a(sim.io, client_config, 2, sim.clock, sim.timers);
  auto b =
      std::make_unique<Side>(sim.io, tcp_config(true), 1, sim.clock, sim.timers, responder_key());
  std::array<std::uint8_t, kCellSize> cell{};
  fill_cell(cell.data(), 1, 0);
  a.links->add_peer(b->public_key, PeerEndpoints{{}, b->links->tcp_local_endpoint()});
  a.links->send(b->public_key, cell);
  ASSERT_TRUE(run_until(
      sim.io, sim.timers, [&] { return b->received == 1; }, 10s));
  const PeerKey first = b->up_peer;
  EXPECT_NE(first, a.public_key);
  EXPECT_EQ(a.links->local_key(b->public_key), first);
  b->links->stop();
  ASSERT_TRUE(run_until(
      sim.io, sim.timers, [&] { return a.down; }, 10s));
  b = std::make_unique<Side>(sim.io, tcp_config(true), 1, sim.clock, sim.timers, responder_key());
  a.links->add_peer(b->public_key, PeerEndpoints{{}, b->links->tcp_local_endpoint()});
  a.links->send(b->public_key, cell);
  ASSERT_TRUE(run_until(
      sim.io, sim.timers, [&] { return b->received == 1; }, 10s));
  EXPECT_NE(b->up_peer, first);
  EXPECT_NE(b->up_peer, a.public_key);
  EXPECT_EQ(a.links->local_key(b->public_key), b->up_peer);
}

}  // namespace
}  // namespace nyx::transport
