// LinkManager end to end over real loopback sockets (port 0); the tests that
// wait on a timer (handshake timeout, keepalive, dead link) move simulated
// time instead.

#include "transport/link_manager.hpp"

#include <array>
#include <memory>
#include <vector>

#include <asio/ip/udp.hpp>
#include <gtest/gtest.h>

#include "core/metrics/registry.hpp"
#include "support/run_until.hpp"
#include "transport/support/loopback.hpp"
#include "transport/udp_wire.hpp"

namespace nyx::transport {
namespace {

using namespace std::chrono_literals;
using nyx::test::run_for;
using nyx::test::run_until;
using test::cell_matches;
using test::fill_cell;
using test::SimulatedTime;

LinkConfig udp_config(const char* address = "127.0.0.1") {
  LinkConfig c;
  c.udp_listen = {asio::ip::make_address(address), 0};
  c.tick = 10ms;
  c.handshake_retry = 50ms;
  return c;
}

struct Node {
  PeerKey public_key;
  std::unique_ptr<LinkManager> links;
  std::vector<std::pair<PeerKey, LinkEvent>> events;
  std::uint64_t received = 0;
  std::uint64_t bad = 0;
  std::uint64_t stream = 0;  // which stream this node expects to receive

  Node(asio::io_context& io, LinkConfig config, const Clock& clock = SteadyClock::instance(),
       async::TimerService& timers = async::SteadyTimers::instance(),
       crypto::X25519KeyPair key = crypto::X25519KeyPair::generate())
      : public_key(key.public_key) {
    auto created = LinkManager::create(io, clock, timers, std::move(key), config);
    EXPECT_TRUE(created) << created.error().to_string();
    links = std::move(*created);
    links->set_event_handler(
        [this](const PeerKey& peer, LinkKind, LinkEvent e) { events.emplace_back(peer, e); });
    links->set_cell_handler([this](std::span<const ReceivedCell> cells) {
      for (const auto& c : cells) {
        if (!cell_matches(c.cell, stream, received)) {
          ++bad;
        }
        ++received;
      }
    });
  }
  bool saw(LinkEvent e) const {
    for (const auto& [peer, event] : events) {
      if (event == e) {
        return true;
      }
    }
    return false;
  }
};

PeerEndpoints udp_of(const Node& n) { return PeerEndpoints{n.links->udp_local_endpoint(), {}}; }

// Sends `count` cells each way with at most `window` unacknowledged per
// direction (UDP drops what a receive buffer cannot hold; the window keeps a
// single-threaded test within it).
void exchange(asio::io_context& io, Node& a, Node& b, std::uint64_t count,
              std::uint64_t window = 256) {
  std::uint64_t a_sent = 0;
  std::uint64_t b_sent = 0;
  a.stream = 2;  // a receives b's stream
  b.stream = 1;
  std::array<std::uint8_t, kCellSize> cell{};
  auto pump = [&] {
    while (a_sent < count && a_sent - b.received < window) {
      fill_cell(cell.data(), 1, a_sent);
      const auto r = a.links->send(b.public_key, cell);
      ASSERT_TRUE(r == SendResult::kSent || r == SendResult::kQueued);
      ++a_sent;
    }
    while (b_sent < count && b_sent - a.received < window && a.received + b.received > 0) {
      fill_cell(cell.data(), 2, b_sent);
      const auto r = b.links->send(a.public_key, cell);
      ASSERT_TRUE(r == SendResult::kSent || r == SendResult::kQueued);
      ++b_sent;
    }
  };
  a.links->set_cell_handler([&](std::span<const ReceivedCell> cells) {
    for (const auto& c : cells) {
      a.bad += cell_matches(c.cell, 2, a.received) ? 0u : 1u;
      ++a.received;
    }
    pump();
  });
  b.links->set_cell_handler([&](std::span<const ReceivedCell> cells) {
    for (const auto& c : cells) {
      b.bad += cell_matches(c.cell, 1, b.received) ? 0u : 1u;
      ++b.received;
    }
    pump();
  });
  pump();
  ASSERT_TRUE(run_until(
      io, [&] { return a.received == count && b.received == count; }, 120s))
      << "a got " << a.received << ", b got " << b.received;
  EXPECT_EQ(a.bad, 0u);
  EXPECT_EQ(b.bad, 0u);
}

TEST(LinkManagerUdpTest, HandshakeAndBulkCellsEachWayByteExact) {
  asio::io_context io;
  Node a(io, udp_config());
  Node b(io, udp_config());
  a.links->add_peer(b.public_key, udp_of(b));
  exchange(io, a, b, test::kBulkCells);
  EXPECT_TRUE(a.saw(LinkEvent::kUp));
  EXPECT_TRUE(b.saw(LinkEvent::kUp));
  const auto stats = a.links->stats(b.public_key);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->cells_sent, test::kBulkCells);
  EXPECT_EQ(stats->cells_received, test::kBulkCells);
  EXPECT_EQ(stats->kind, LinkKind::kUdp);
  EXPECT_EQ(b.links->counters().dropped_malformed, 0u);
  EXPECT_LT(a.links->counters().udp_batches_sent, a.links->counters().udp_packets_sent);
}

// A forwarding "wire" between a and b that can replay or corrupt datagrams.
struct Wire {
  asio::ip::udp::socket socket;
  asio::ip::udp::endpoint a_end;
  asio::ip::udp::endpoint b_end;
  std::array<std::uint8_t, 2048> buf{};
  asio::ip::udp::endpoint from;
  std::vector<std::uint8_t> last_data_to_b;
  bool corrupt_next_data = false;

  Wire(asio::io_context& io, asio::ip::udp::endpoint b)
      : socket(io, {asio::ip::make_address("127.0.0.1"), 0}), b_end(b) {
    receive();
  }
  void receive() {
    socket.async_receive_from(asio::buffer(buf), from, [this](asio::error_code ec, std::size_t n) {
      if (ec) {
        return;
      }
      const bool to_b = from != b_end;
      if (to_b) {
        a_end = from;
        if (buf[0] == static_cast<std::uint8_t>(UdpMessageType::kData)) {
          last_data_to_b.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
          if (corrupt_next_data) {
            corrupt_next_data = false;
            buf[100] ^= 0x40;
          }
        }
      }
      socket.send_to(asio::buffer(buf.data(), n), to_b ? b_end : a_end, 0, ec);
      receive();
    });
  }
};

TEST(LinkManagerUdpTest, ReplayedDatagramIsDroppedAndCorruptedOneIsCounted) {
  asio::io_context io;
  Node a(io, udp_config());
  Node b(io, udp_config());
  Wire wire(io, *b.links->udp_local_endpoint());
  a.links->add_peer(b.public_key, PeerEndpoints{wire.socket.local_endpoint(), {}});
  b.stream = 1;
  std::array<std::uint8_t, kCellSize> cell{};
  fill_cell(cell.data(), 1, 0);
  a.links->send(b.public_key, cell);
  ASSERT_TRUE(run_until(
      io, [&] { return b.received == 1; }, 10s));

  wire.socket.send_to(asio::buffer(wire.last_data_to_b), wire.b_end);
  ASSERT_TRUE(run_until(
      io, [&] { return b.links->counters().dropped_replay == 1; }, 10s));
  EXPECT_EQ(b.received, 1u);

  wire.corrupt_next_data = true;
  fill_cell(cell.data(), 1, 1);
  a.links->send(b.public_key, cell);
  ASSERT_TRUE(run_until(
      io, [&] { return b.links->counters().dropped_malformed == 1; }, 10s));
  EXPECT_EQ(b.received, 1u);

  // The link still works after both.
  a.links->send(b.public_key, cell);
  ASSERT_TRUE(run_until(
      io, [&] { return b.received == 2; }, 10s));
  EXPECT_EQ(b.bad, 0u);
}

TEST(LinkManagerUdpTest, WrongStaticKeyFailsTheHandshake) {
  SimulatedTime sim;
  auto config = udp_config();
  config.handshake_timeout = 400ms;
  Node a(sim.io, config, sim.clock, sim.timers);
  Node b(sim.io, udp_config(), sim.clock, sim.timers);
  const auto wrong = crypto::X25519KeyPair::generate();
  a.links->add_peer(wrong.public_key, udp_of(b));
  std::array<std::uint8_t, kCellSize> cell{};
  const Nanos start = sim.clock.now();
  EXPECT_EQ(a.links->send(wrong.public_key, cell), SendResult::kQueued);
  ASSERT_TRUE(run_until(
      sim.io, sim.timers, [&] { return a.saw(LinkEvent::kHandshakeFailed); }, 10s));
  // Given up on the first tick past the timeout (not at the next retransmission,
  // 750 ms), after message 1 went out at 0, 50, 150 and 350 ms.
  EXPECT_GE(sim.clock.now() - start, config.handshake_timeout);
  EXPECT_LE(sim.clock.now() - start, config.handshake_timeout + 2 * config.tick);
  EXPECT_EQ(b.links->counters().dropped_malformed, 4u);
  EXPECT_FALSE(a.saw(LinkEvent::kUp));
  EXPECT_TRUE(b.events.empty());
  EXPECT_GT(b.links->counters().dropped_malformed, 0u);
  EXPECT_EQ(a.links->stats(wrong.public_key)->dropped_queue_full, 1u);
}

TEST(LinkManagerUdpTest, SilentPeerIsDetected) {
  SimulatedTime sim;
  auto config = udp_config();
  config.keepalive_interval = 50ms;
  config.dead_after = 300ms;
  Node a(sim.io, config, sim.clock, sim.timers);
  Node b(sim.io, config, sim.clock, sim.timers);
  a.links->add_peer(b.public_key, udp_of(b));
  std::array<std::uint8_t, kCellSize> cell{};
  a.links->send(b.public_key, cell);
  ASSERT_TRUE(run_until(
      sim.io, sim.timers, [&] { return b.received == 1; }, 10s));
  // Keepalives hold an idle link up well past dead_after.
  run_for(sim.io, sim.timers, 2 * config.dead_after);
  EXPECT_FALSE(a.saw(LinkEvent::kDown));
  EXPECT_FALSE(b.saw(LinkEvent::kDown));
  b.links->stop();  // b goes silent
  const Nanos silent_from = sim.clock.now();
  ASSERT_TRUE(run_until(
      sim.io, sim.timers, [&] { return a.saw(LinkEvent::kDown); }, 10s));
  EXPECT_FALSE(a.links->stats(b.public_key)->up);
  // Down once dead_after passed without a keepalive, within a tick or two.
  EXPECT_GE(sim.clock.now() - silent_from,
            config.dead_after - config.keepalive_interval - config.tick);
  EXPECT_LE(sim.clock.now() - silent_from, config.dead_after + 2 * config.tick);
}

// A client's links (fresh_initiator_keys): the responder learns a key drawn
// for that link, kept through its rekeys, and another once the link is gone
// and a new one starts; none is the client's identity.
TEST(LinkManagerUdpTest, ClientLinksShowEachNewLinkAFreshStatic) {
  SimulatedTime sim;
  auto client_config = udp_config();
  client_config.fresh_initiator_keys = true;
  client_config.keepalive_interval = 50ms;
  client_config.dead_after = 300ms;
  client_config.rekey_after_time = 500ms;
  std::array<std::uint8_t, crypto::kX25519KeySize> secret{};
  secret.fill(0x5a);
  const auto responder_key = [&] { return crypto::X25519KeyPair::from_secret(secret); };
  auto responder_config = udp_config();
  responder_config.keepalive_interval = 50ms;  // confirms the client's rekeys
  Node a(sim.io, client_config, sim.clock, sim.timers);
  auto b = std::make_unique<Node>(sim.io, responder_config, sim.clock, sim.timers, responder_key());
  a.links->add_peer(b->public_key, udp_of(*b));
  std::array<std::uint8_t, kCellSize> cell{};
  fill_cell(cell.data(), 0, 0);
  a.links->send(b->public_key, cell);
  ASSERT_TRUE(run_until(
      sim.io, sim.timers, [&] { return b->received == 1; }, 10s));
  ASSERT_TRUE(b->saw(LinkEvent::kUp));
  const PeerKey first = b->events.front().first;
  EXPECT_NE(first, a.public_key);
  EXPECT_EQ(a.links->local_key(b->public_key), first);
  // Rekeys keep the link's key: the responder still knows one peer.
  run_for(sim.io, sim.timers, 2s);
  EXPECT_GE(a.links->counters().rekeys, 2u);
  for (const auto& [peer, event] : b->events) {
    EXPECT_EQ(peer, first);
  }
  EXPECT_EQ(a.links->local_key(b->public_key), first);
  // The link dies; the same responder, restarted elsewhere, meets a new key.
  b->links->stop();
  ASSERT_TRUE(run_until(
      sim.io, sim.timers, [&] { return a.saw(LinkEvent::kDown); }, 10s));
  b = std::make_unique<Node>(sim.io, responder_config, sim.clock, sim.timers, responder_key());
  a.links->add_peer(b->public_key, udp_of(*b));
  a.links->send(b->public_key, cell);
  ASSERT_TRUE(run_until(
      sim.io, sim.timers, [&] { return b->received == 1; }, 10s));
  ASSERT_TRUE(b->saw(LinkEvent::kUp));
  const PeerKey second = b->events.front().first;
  EXPECT_NE(second, first);
  EXPECT_NE(second, a.public_key);
  EXPECT_EQ(a.links->local_key(b->public_key), second);
}

TEST(LinkManagerUdpTest, HandshakeFloodFromOneAddressIsLimitedWhileAnotherConnects) {
  asio::io_context io;
  auto config = udp_config("0.0.0.0");
  config.handshakes_per_second_per_address = 5;
  config.handshake_burst_per_address = 5;
  config.max_half_open = 16;
  Node b(io, config);
  const asio::ip::udp::endpoint b_end{asio::ip::make_address("127.0.0.1"),
                                      b.links->udp_local_endpoint()->port()};
  // The flood: valid first messages (each costs b a DH) from 127.0.0.1.
  asio::ip::udp::socket flood(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto attacker = crypto::X25519KeyPair::generate();
  std::array<std::uint8_t, kDatagramSize> datagram{};
  for (std::uint32_t i = 0; i < 200; ++i) {
    auto hs = NoiseHandshake::initiator(attacker, b.public_key, as_bytes(kLinkPrologue));
    std::array<std::uint8_t, NoiseHandshake::kMessage1Size> msg{};
    ASSERT_TRUE(hs.write_message({}, msg));
    write_handshake_init(datagram, i + 1, msg);
    flood.send_to(asio::buffer(datagram), b_end);
  }
  ASSERT_TRUE(run_until(
      io, [&] { return b.links->counters().dropped_rate_limited >= 190; }, 10s));
  // A legitimate peer on another address still gets through.
  Node a(io, udp_config("127.0.0.2"));
  a.links->add_peer(b.public_key, PeerEndpoints{b_end, {}});
  b.stream = 1;
  std::array<std::uint8_t, kCellSize> cell{};
  fill_cell(cell.data(), 1, 0);
  a.links->send(b.public_key, cell);
  ASSERT_TRUE(run_until(
      io, [&] { return b.received == 1; }, 10s));
  EXPECT_EQ(b.bad, 0u);
  EXPECT_LE(b.links->counters().dropped_rate_limited, 200u);
}

TEST(LinkManagerUdpTest, RekeyUnderLoadLosesNothing) {
  asio::io_context io;
  auto config = udp_config();
  config.rekey_after_messages = 2000;
  Node a(io, config);
  Node b(io, config);
  a.links->add_peer(b.public_key, udp_of(b));
  exchange(io, a, b, 50'000);
  EXPECT_GE(a.links->counters().rekeys + b.links->counters().rekeys, 10u);
  EXPECT_EQ(a.links->counters().dropped_replay + b.links->counters().dropped_replay, 0u);
}

TEST(LinkManagerUdpTest, CountersArePublishedAsNyxMetrics) {
  asio::io_context io;
  metrics::Registry registry;
  Node a(io, udp_config());
  Node b(io, udp_config());
  b.links->publish_metrics(registry);
  a.links->add_peer(b.public_key, udp_of(b));
  std::array<std::uint8_t, kCellSize> cell{};
  a.links->send(b.public_key, cell);
  ASSERT_TRUE(run_until(
      io, [&] { return b.received == 1; }, 10s));
  ASSERT_TRUE(run_until(
      io,
      [&] {
        return registry.prometheus_text().find(
                   "nyx_transport_handshakes_total{result=\"completed\"} 1") != std::string::npos;
      },
      10s))
      << registry.prometheus_text();
  const std::string text = registry.prometheus_text();
  EXPECT_NE(text.find("nyx_transport_udp_packets_total{dir=\"rx\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("\nnyx_transport_links_up 1\n"), std::string::npos) << text;
}

TEST(LinkManagerUdpTest, SendRejectsBadSizesAndUnknownPeers) {
  asio::io_context io;
  Node a(io, udp_config());
  std::array<std::uint8_t, kCellSize> cell{};
  EXPECT_EQ(a.links->send(a.public_key, Bytes(cell).first(10)), SendResult::kDroppedBadSize);
  const auto stranger = crypto::X25519KeyPair::generate();
  EXPECT_EQ(a.links->send(stranger.public_key, cell), SendResult::kDroppedNoRoute);
}

TEST(LinkManagerUdpTest, PerPeerBandwidthLimitDropsAndCounts) {
  asio::io_context io;
  auto config = udp_config();
  config.peer_rate_bytes = 10 * kCellSize;
  config.peer_burst_bytes = 20 * kCellSize;
  Node a(io, config);
  Node b(io, udp_config());
  a.links->add_peer(b.public_key, udp_of(b));
  std::array<std::uint8_t, kCellSize> cell{};
  std::size_t limited = 0;
  for (int i = 0; i < 100; ++i) {
    limited += a.links->send(b.public_key, cell) == SendResult::kDroppedRateLimited ? 1u : 0u;
  }
  EXPECT_GE(limited, 70u);
  EXPECT_EQ(a.links->stats(b.public_key)->dropped_rate_limited, limited);
}

}  // namespace
}  // namespace nyx::transport
