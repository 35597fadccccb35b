#include "mix/relay.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "mix/support/cell_checks.hpp"
#include "mix/support/memory_network.hpp"

namespace nyx::mix {
namespace {

using testing::MemoryNetwork;
using Collect = testing::DatagramCollector;
using testing::bytes_of;
using testing::is_command;

// Builds a circuit from node 0 through `path`; expects it open.
std::unique_ptr<Circuit> build(MemoryNetwork& net, std::initializer_list<int> path) {
  auto circuit = net.relay(0).create_circuit(net.hops(path));
  EXPECT_TRUE(circuit.has_value());
  net.run();
  EXPECT_EQ((*circuit)->state(), Circuit::State::kOpen);
  return std::move(*circuit);
}

class RelayPaths : public ::testing::TestWithParam<int> {};

TEST_P(RelayPaths, DataIsByteExactBothWays) {
  const int hops = GetParam();
  MemoryNetwork net(hops + 1);
  std::vector<OnionHop> path;
  for (int i = 1; i <= hops; ++i) {
    path.push_back(net.hop(i));
  }
  auto created = net.relay(0).create_circuit(path);
  ASSERT_TRUE(created.has_value());
  std::unique_ptr<Circuit> client = std::move(*created);
  EXPECT_EQ(client->state(), Circuit::State::kBuilding);
  EXPECT_EQ(client->send(bytes_of("early")), SendOutcome::kBlocked);
  net.run();
  ASSERT_EQ(client->state(), Circuit::State::kOpen);
  ASSERT_EQ(net.terminals(hops).size(), 1u);
  Circuit& exit = *net.terminals(hops)[0];
  for (int i = 1; i < hops; ++i) {
    EXPECT_EQ(net.relay(i).circuit_count(), 1u);
  }

  Collect at_exit;
  Collect at_client;
  exit.set_receiver(&at_exit);
  client->set_receiver(&at_client);
  std::vector<std::uint8_t> big(client->max_datagram_size());
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<std::uint8_t>(i * 7);
  }
  ASSERT_EQ(client->send(bytes_of("hello exit")), SendOutcome::kSent);
  ASSERT_EQ(client->send(big), SendOutcome::kSent);
  ASSERT_EQ(client->send({}), SendOutcome::kSent);
  net.run();
  ASSERT_EQ(at_exit.got.size(), 3u);
  EXPECT_EQ(at_exit.got[0], bytes_of("hello exit"));
  EXPECT_EQ(at_exit.got[1], big);
  EXPECT_TRUE(at_exit.got[2].empty());

  ASSERT_EQ(exit.send(bytes_of("hello client")), SendOutcome::kSent);
  ASSERT_EQ(exit.send(big), SendOutcome::kSent);
  net.run();
  ASSERT_EQ(at_client.got.size(), 2u);
  EXPECT_EQ(at_client.got[0], bytes_of("hello client"));
  EXPECT_EQ(at_client.got[1], big);

  std::vector<std::uint8_t> too_big(client->max_datagram_size() + 1);
  EXPECT_EQ(client->send(too_big), SendOutcome::kTooLarge);
}

INSTANTIATE_TEST_SUITE_P(Hops, RelayPaths, ::testing::Values(3, 5));

TEST(Relay, ReplayedCreateIsRejected) {
  MemoryNetwork net(4);
  Cell captured{};
  net.set_filter([&](int from, int to, Cell& cell) {
    if (from == 0 && to == 1 && is_command(cell, CellCommand::kCreate)) {
      captured = cell;
    }
    return true;
  });
  auto client = build(net, {1, 2, 3});
  EXPECT_EQ(net.relay(1).counters().creates_accepted, 1u);
  // The same CREATE again, on a fresh circuit id so only the replay cache can catch it.
  store_be32(captured.data(), 0x1234);
  net.relay(1).handle_cell(net.hop(0).link_key, captured);
  EXPECT_EQ(net.relay(1).counters().creates_replay, 1u);
  EXPECT_EQ(net.relay(1).counters().creates_rejected, 0u);
  EXPECT_EQ(net.relay(1).circuit_count(), 1u);
  net.run();
  EXPECT_EQ(net.relay(2).counters().creates_accepted, 1u);
}

// A bit flipped between the entry and the middle is caught by the middle,
// the first honest hop after the change: its header no longer deciphers.
TEST(Relay, TamperedDataCellDestroysTheCircuitAtBothEnds) {
  MemoryNetwork net(4);
  auto client = build(net, {1, 2, 3});
  Circuit& exit = *net.terminals(3)[0];
  Collect at_exit;
  exit.set_receiver(&at_exit);
  net.set_filter([](int from, int to, Cell& cell) {
    if (from == 1 && to == 2 && is_command(cell, CellCommand::kRelay)) {
      cell[500] ^= 0x01;
    }
    return true;
  });
  ASSERT_EQ(client->send(bytes_of("tag me")), SendOutcome::kSent);
  net.run();
  EXPECT_TRUE(at_exit.got.empty());
  EXPECT_EQ(net.relay(2).counters().tampered, 1u);
  EXPECT_EQ(net.relay(3).counters().tampered, 0u);
  EXPECT_EQ(exit.state(), Circuit::State::kClosed);
  EXPECT_EQ(client->state(), Circuit::State::kClosed);
  EXPECT_EQ(client->close_reason(), DestroyReason::kTampered);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(net.relay(i).circuit_count(), 0u) << i;
  }
  EXPECT_EQ(client->send(bytes_of("x")), SendOutcome::kClosed);
}

TEST(Relay, TamperedBackwardCellDestroysTheCircuitAtBothEnds) {
  MemoryNetwork net(4);
  auto client = build(net, {1, 2, 3});
  Circuit& exit = *net.terminals(3)[0];
  net.set_filter([](int from, int to, Cell& cell) {
    if (from == 2 && to == 1 && is_command(cell, CellCommand::kRelay)) {
      cell[kCellHeaderSize + 2] ^= 0x40;  // the middle's random bytes r
    }
    return true;
  });
  ASSERT_EQ(exit.send(bytes_of("tag me")), SendOutcome::kSent);
  net.run();
  EXPECT_EQ(net.relay(0).counters().tampered, 1u);
  EXPECT_EQ(client->state(), Circuit::State::kClosed);
  EXPECT_EQ(exit.state(), Circuit::State::kClosed);
  EXPECT_EQ(exit.close_reason(), DestroyReason::kTampered);
}

// A forward cell replayed into a hop is dropped there and counted; the
// circuit lives and the datagram is delivered once.
TEST(Relay, ReplayedDataCellIsDroppedAndTheCircuitLives) {
  MemoryNetwork net(4);
  auto client = build(net, {1, 2, 3});
  Collect at_exit;
  net.terminals(3)[0]->set_receiver(&at_exit);
  Cell captured{};
  net.set_filter([&](int from, int to, Cell& cell) {
    if (from == 1 && to == 2 && is_command(cell, CellCommand::kRelay)) {
      captured = cell;
    }
    return true;
  });
  ASSERT_EQ(client->send(bytes_of("once")), SendOutcome::kSent);
  net.run();
  ASSERT_EQ(at_exit.got.size(), 1u);
  net.relay(2).handle_cell(net.hop(1).link_key, captured);
  net.run();
  EXPECT_EQ(net.relay(2).counters().dropped_replayed, 1u);
  EXPECT_EQ(net.relay(2).counters().tampered, 0u);
  EXPECT_EQ(at_exit.got.size(), 1u);
  EXPECT_EQ(client->state(), Circuit::State::kOpen);
  ASSERT_EQ(client->send(bytes_of("twice")), SendOutcome::kSent);
  net.run();
  ASSERT_EQ(at_exit.got.size(), 2u);
  EXPECT_EQ(at_exit.got[1], bytes_of("twice"));
}

TEST(Relay, WrongOnionKeyFailsSetup) {
  MemoryNetwork net(4);
  auto path = net.hops({1, 2, 3});
  path[1].onion_key = net.hop(3).onion_key;
  auto client = net.relay(0).create_circuit(path);
  ASSERT_TRUE(client.has_value());
  net.run();
  EXPECT_EQ((*client)->state(), Circuit::State::kClosed);
  EXPECT_EQ((*client)->close_reason(), DestroyReason::kCreateFailed);
  EXPECT_EQ(net.relay(2).counters().creates_rejected, 1u);
  EXPECT_EQ(net.relay(1).circuit_count(), 0u);
  EXPECT_TRUE(net.terminals(3).empty());
}

TEST(Relay, DestroyPropagatesFromTheClient) {
  MemoryNetwork net(4);
  auto client = build(net, {1, 2, 3});
  Circuit& exit = *net.terminals(3)[0];
  client->close();
  net.run();
  EXPECT_EQ(exit.state(), Circuit::State::kClosed);
  EXPECT_EQ(exit.close_reason(), DestroyReason::kRequested);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(net.relay(i).circuit_count(), 0u) << i;
  }
}

TEST(Relay, DestroyPropagatesFromTheExit) {
  MemoryNetwork net(4);
  auto client = build(net, {1, 2, 3});
  net.terminals(3).clear();  // the exit drops its end
  net.run();
  EXPECT_EQ(client->state(), Circuit::State::kClosed);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(net.relay(i).circuit_count(), 0u) << i;
  }
}

TEST(Relay, OverloadedRelayDropsOnlyTheExcessFairly) {
  RelayConfig config;
  config.link_queue_cells = 16;
  config.circuit_queue_cells = 12;
  config.flush_cells_per_link = 64;
  MemoryNetwork net(4, config);
  auto heavy = build(net, {1, 2, 3});
  auto light = build(net, {1, 2, 3});
  Collect heavy_rx;
  Collect light_rx;
  net.terminals(3)[0]->set_receiver(&heavy_rx);
  net.terminals(3)[1]->set_receiver(&light_rx);
  // The client's own queue takes 12 of the heavy circuit's cells and 4 of
  // the light one's; the rest is refused at the source with backpressure.
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    refused += heavy->send(bytes_of(fmt::format("h{}", i))) == SendOutcome::kSent ? 0 : 1;
  }
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(light->send(bytes_of(fmt::format("l{}", i))), SendOutcome::kSent);
  }
  EXPECT_EQ(refused, 8);
  net.run();
  EXPECT_EQ(heavy_rx.got.size(), 12u);
  EXPECT_EQ(light_rx.got.size(), 4u);

  // Now overload the entry: 2 x 16 cells arrive in one batch, its link to
  // node 2 queues 16.
  MemoryNetwork net2(4, config);
  auto a = build(net2, {1, 2, 3});
  auto b = build(net2, {1, 2, 3});
  Collect a_rx;
  Collect b_rx;
  net2.terminals(3)[0]->set_receiver(&a_rx);
  net2.terminals(3)[1]->set_receiver(&b_rx);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 8; ++i) {
      ASSERT_EQ(a->send(bytes_of("a")), SendOutcome::kSent);
      ASSERT_EQ(b->send(bytes_of("b")), SendOutcome::kSent);
    }
    net2.relay(0).flush();  // 16 cells leave the client per round
  }
  net2.run();
  EXPECT_EQ(net2.relay(1).counters().dropped_queue_full, 16u);
  EXPECT_EQ(a_rx.got.size() + b_rx.got.size(), 16u);
  EXPECT_EQ(a_rx.got.size(), 8u);  // round-robin: each circuit got half
  EXPECT_EQ(a->state(), Circuit::State::kOpen);
}

TEST(Relay, CoverCellsAreDroppedAtTheirEndAndNeverReachTheStream) {
  MemoryNetwork net(4);
  auto client = build(net, {1, 2, 3});
  Circuit& exit = *net.terminals(3)[0];
  Collect at_exit;
  Collect at_client;
  exit.set_receiver(&at_exit);
  client->set_receiver(&at_client);
  client->set_cover_rate(100);
  exit.set_cover_rate(100);
  for (int i = 0; i < 10; ++i) {
    net.clock().advance(std::chrono::milliseconds(100));
    net.tick_all();
    net.run();
  }
  EXPECT_GT(exit.cover_cells_received(), 20u);
  EXPECT_GT(client->cover_cells_received(), 20u);
  EXPECT_TRUE(at_exit.got.empty());
  EXPECT_TRUE(at_client.got.empty());
  // On the wire they were RELAY cells like any other.
  EXPECT_EQ(net.relay(2).counters().cells_relayed,
            exit.cover_cells_received() + client->cover_cells_received());
  ASSERT_EQ(client->send(bytes_of("real")), SendOutcome::kSent);
  net.run();
  ASSERT_EQ(at_exit.got.size(), 1u);
}

TEST(Relay, SetupTimeoutClosesAnUnansweredCircuit) {
  MemoryNetwork net(4);
  net.set_filter(
      [](int, int to, Cell& cell) { return !(to == 3 && is_command(cell, CellCommand::kCreate)); });
  auto client = net.relay(0).create_circuit(net.hops({1, 2, 3}));
  ASSERT_TRUE(client.has_value());
  net.run();
  EXPECT_EQ((*client)->state(), Circuit::State::kBuilding);
  net.clock().advance(std::chrono::seconds(11));
  net.tick_all();
  net.run();
  EXPECT_EQ((*client)->state(), Circuit::State::kClosed);
  EXPECT_EQ((*client)->close_reason(), DestroyReason::kTimeout);
  EXPECT_EQ(net.relay(1).circuit_count(), 0u);
  EXPECT_EQ(net.relay(2).circuit_count(), 0u);
}

TEST(Relay, IdleCircuitsTimeOut) {
  RelayConfig config;
  config.idle_timeout = std::chrono::seconds(30);
  MemoryNetwork net(4, config);
  auto client = build(net, {1, 2, 3});
  net.clock().advance(std::chrono::seconds(20));
  net.tick_all();
  ASSERT_EQ(client->send(bytes_of("keepalive")), SendOutcome::kSent);
  net.run();
  net.clock().advance(std::chrono::seconds(20));
  net.tick_all();
  net.run();
  EXPECT_EQ(client->state(), Circuit::State::kOpen);
  net.clock().advance(std::chrono::seconds(31));
  net.tick_all();
  net.run();
  EXPECT_EQ(client->state(), Circuit::State::kClosed);
  EXPECT_EQ(net.relay(2).circuit_count(), 0u);
}

TEST(Relay, HopDelayHoldsCellsUntilTheirTime) {
  RelayConfig config;
  config.mean_hop_delay = std::chrono::milliseconds(50);
  MemoryNetwork net(4, config);
  auto client = build(net, {1, 2, 3});
  Collect at_exit;
  net.terminals(3)[0]->set_receiver(&at_exit);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(client->send(bytes_of("slow")), SendOutcome::kSent);
  }
  net.run();
  EXPECT_TRUE(at_exit.got.empty());
  for (int i = 0; i < 200 && at_exit.got.size() < 5; ++i) {
    net.clock().advance(std::chrono::milliseconds(10));
    net.tick_all();
    net.run();
  }
  EXPECT_EQ(at_exit.got.size(), 5u);
}

TEST(Relay, LinkDownDestroysItsCircuits) {
  MemoryNetwork net(4);
  auto client = build(net, {1, 2, 3});
  net.relay(2).link_down(net.hop(3).link_key);
  net.run();
  EXPECT_EQ(client->state(), Circuit::State::kClosed);
  EXPECT_EQ(client->close_reason(), DestroyReason::kLinkDown);
  EXPECT_EQ(net.relay(1).circuit_count(), 0u);
}

TEST(Relay, PaddingAndGarbageAreCountedAndDropped) {
  MemoryNetwork net(2);
  Cell padding = make_padding_cell();
  net.relay(1).handle_cell(net.hop(0).link_key, padding);
  std::vector<std::uint8_t> short_cell(10);
  net.relay(1).handle_cell(net.hop(0).link_key, short_cell);
  Cell unknown{};
  write_cell_header(unknown, 77, CellCommand::kRelay);
  net.relay(1).handle_cell(net.hop(0).link_key, unknown);
  EXPECT_EQ(net.relay(1).counters().padding_received, 1u);
  EXPECT_EQ(net.relay(1).counters().dropped_malformed, 1u);
  EXPECT_EQ(net.relay(1).counters().dropped_unknown_circuit, 1u);
}

TEST(Relay, CircuitIdsCarryTheSideOfTheLinkThatChoseThem) {
  MemoryNetwork net(3);
  std::vector<CircuitId> ids;
  net.set_filter([&](int from, int, Cell& cell) {
    if (from == 0 && is_command(cell, CellCommand::kCreate)) {
      ids.push_back(load_be32(cell.data()));
    }
    return true;
  });
  auto c1 = build(net, {1, 2});
  auto c2 = build(net, {2, 1});
  ASSERT_EQ(ids.size(), 2u);
  const bool high_to_1 = net.hop(0).link_key > net.hop(1).link_key;
  const bool high_to_2 = net.hop(0).link_key > net.hop(2).link_key;
  EXPECT_EQ((ids[0] & 0x80000000u) != 0, high_to_1);
  EXPECT_EQ((ids[1] & 0x80000000u) != 0, high_to_2);
}

TEST(Relay, AsksForAFlushWhenCellsStartWaiting) {
  RelayConfig config;
  config.flush_cells_per_link = 2;
  MemoryNetwork net(3, config);
  auto client = build(net, {1, 2});
  int requests = 0;
  net.relay(0).set_flush_request([&] { ++requests; });
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(client->send(bytes_of("x")), SendOutcome::kSent);
  }
  EXPECT_EQ(requests, 1);
  EXPECT_EQ(net.relay(0).queued_cells(), 5u);
  net.relay(0).flush();
  EXPECT_EQ(net.relay(0).queued_cells(), 3u);  // one budget per flush
  net.relay(0).flush();
  net.relay(0).flush();
  EXPECT_EQ(net.relay(0).queued_cells(), 0u);
  ASSERT_EQ(client->send(bytes_of("y")), SendOutcome::kSent);
  EXPECT_EQ(requests, 2);
}

// DESTROY tells nobody why but the end it concerns (docs/protocol.md,
// "DESTROY and END"): the client's reason reaches the exit and the exit's the
// client, while each link carries a payload that shares nothing with the
// next link's, and a middle hop's own keys do not open it as an END.
TEST(RelayDestroy, OnlyTheEndsReadTheReasonAndEachLinkSeesFreshBytes) {
  for (const bool client_closes : {true, false}) {
    MemoryNetwork net(4);
    std::map<std::pair<int, int>, Cell> destroys;
    net.set_filter([&](int from, int to, Cell& cell) {
      if (is_command(cell, CellCommand::kDestroy)) {
        destroys[{from, to}] = cell;
      }
      return true;
    });
    auto client = build(net, {1, 2, 3});
    ASSERT_EQ(net.terminals(3).size(), 1u);
    Circuit& exit = *net.terminals(3)[0];
    if (client_closes) {
      client->close();
    } else {
      exit.close();
    }
    net.run();
    EXPECT_EQ(client->state(), Circuit::State::kClosed);
    EXPECT_EQ(exit.state(), Circuit::State::kClosed);
    EXPECT_EQ(client->close_reason(), DestroyReason::kRequested);
    EXPECT_EQ(exit.close_reason(), DestroyReason::kRequested);
    const std::vector<std::pair<int, int>> links =
        client_closes ? std::vector<std::pair<int, int>>{{0, 1}, {1, 2}, {2, 3}}
                      : std::vector<std::pair<int, int>>{{3, 2}, {2, 1}, {1, 0}};
    for (std::size_t i = 0; i + 1 < links.size(); ++i) {
      ASSERT_TRUE(destroys.contains(links[i]) && destroys.contains(links[i + 1]));
      const Cell& a = destroys[links[i]];
      const Cell& b = destroys[links[i + 1]];
      std::size_t equal = 0;
      for (std::size_t k = kCellHeaderSize; k < kCellSize; ++k) {
        equal += a[k] == b[k] ? 1u : 0u;
      }
      EXPECT_LT(equal, 20u) << "links " << i << " and " << i + 1;  // chance: about 4
    }
  }
}

// A relay reading the DESTROY with the keys it holds learns nothing: the
// middle's own backward keys, as a client would try them, open no END.
TEST(RelayDestroy, AMiddleHopCannotReadTheExitsReason) {
  MemoryNetwork net(4);
  std::optional<Cell> at_middle;
  net.set_filter([&](int from, int to, Cell& cell) {
    if (from == 3 && to == 2 && is_command(cell, CellCommand::kDestroy)) {
      at_middle = cell;
    }
    return true;
  });
  auto client = build(net, {1, 2, 3});
  net.terminals(3)[0]->close();
  net.run();
  ASSERT_TRUE(at_middle.has_value());
  EXPECT_EQ(client->close_reason(), DestroyReason::kRequested);
  // Nothing in the cell is a reason byte in the clear.
  std::size_t zeros = 0;
  for (std::size_t k = kCellHeaderSize; k < kCellSize; ++k) {
    zeros += (*at_middle)[k] == 0 ? 1u : 0u;
  }
  EXPECT_LT(zeros, 20u);  // a clear reason would leave 1018 zero bytes
}

// CELL_CAP: past the cap of data cells one way a hop destroys the circuit
// with END 7, which the client reads.
TEST(RelayDestroy, TheCellCapClosesTheCircuitWithItsReason) {
  RelayConfig config;
  config.cell_cap = 5;
  MemoryNetwork net(4, config);
  auto client = build(net, {1, 2, 3});
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(client->send(bytes_of("x")), SendOutcome::kSent);
    net.run();
  }
  EXPECT_EQ(client->state(), Circuit::State::kClosed);
  EXPECT_EQ(client->close_reason(), DestroyReason::kCellLimit);
  EXPECT_EQ(net.relay(1).counters().cell_limits, 1u);  // the entry saw the sixth first
}

}  // namespace
}  // namespace nyx::mix
