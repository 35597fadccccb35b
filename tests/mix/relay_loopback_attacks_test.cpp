// Attacks and overload over real links: a tampered cell, a replayed CREATE,
// an overloaded relay and cover traffic, between in-process nodes on
// 127.0.0.1 UDP (tests/mix/support/loopback_network.hpp). A TapCellLink
// stands where an attacker on a link would.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "mix/support/cell_checks.hpp"
#include "mix/support/loopback_network.hpp"

namespace nyx::mix {
namespace {

using namespace std::chrono_literals;
using testing::Collect;
using LoopbackAttacks = testing::LoopbackTest;
using State = Circuit::State;

using testing::bytes_of;
using testing::is_command;

TEST_F(LoopbackAttacks, TamperedForwardCellDestroysTheCircuitAtBothEnds) {
  start(4);
  auto client = build({1, 2, 3});
  auto bystander = build({1, 2, 3});
  ASSERT_EQ(client->state(), State::kOpen);
  ASSERT_EQ(bystander->state(), State::kOpen);
  ASSERT_EQ(node(3).ends.size(), 2u);
  Circuit& exit = *node(3).ends[0];
  Collect at_exit;
  exit.set_receiver(&at_exit);
  // The entry flips one bit of the next RELAY cell it forwards to the middle.
  int flipped = 0;
  const PeerKey middle = node(2).keys.descriptor.link_key;
  node(1).tap->set_filter([&](const PeerKey& to, Cell& cell) {
    if (flipped == 0 && to == middle && is_command(cell, CellCommand::kRelay)) {
      cell[500] ^= 0x01;
      ++flipped;
    }
    return true;
  });
  ASSERT_EQ(client->send(bytes_of("tag me")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] {
    return client->state() == State::kClosed && exit.state() == State::kClosed &&
           node(1).relay->circuit_count() == 1 && node(2).relay->circuit_count() == 1;
  }));
  EXPECT_EQ(flipped, 1);
  EXPECT_TRUE(at_exit.got.empty());
  EXPECT_EQ(node(3).relay->counters().tampered, 1u);
  EXPECT_EQ(exit.close_reason(), DestroyReason::kTampered);
  EXPECT_EQ(client->close_reason(), DestroyReason::kTampered);
  EXPECT_EQ(client->send(bytes_of("x")), SendOutcome::kClosed);

  // Only that circuit went: the other one over the same links still carries data.
  ASSERT_EQ(bystander->state(), State::kOpen);
  Collect at_other_exit;
  node(3).ends[1]->set_receiver(&at_other_exit);
  ASSERT_EQ(bystander->send(bytes_of("still here")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] { return !at_other_exit.got.empty(); }));
  EXPECT_EQ(at_other_exit.got[0], bytes_of("still here"));
  EXPECT_EQ(node(3).relay->counters().tampered, 1u);
}

TEST_F(LoopbackAttacks, TamperedBackwardCellDestroysTheCircuitAtBothEnds) {
  start(4);
  auto client = build({1, 2, 3});
  ASSERT_EQ(client->state(), State::kOpen);
  ASSERT_EQ(node(3).ends.size(), 1u);
  Circuit& exit = *node(3).ends[0];
  Collect at_client;
  client->set_receiver(&at_client);
  // The middle flips a bit of the nonce of the next RELAY cell it sends back.
  int flipped = 0;
  const PeerKey entry = node(1).keys.descriptor.link_key;
  node(2).tap->set_filter([&](const PeerKey& to, Cell& cell) {
    if (flipped == 0 && to == entry && is_command(cell, CellCommand::kRelay)) {
      cell[kCellHeaderSize + 2] ^= 0x40;
      ++flipped;
    }
    return true;
  });
  ASSERT_EQ(exit.send(bytes_of("tag me")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] {
    return client->state() == State::kClosed && exit.state() == State::kClosed &&
           node(1).relay->circuit_count() == 0 && node(2).relay->circuit_count() == 0;
  }));
  EXPECT_EQ(flipped, 1);
  EXPECT_TRUE(at_client.got.empty());
  EXPECT_EQ(node(0).relay->counters().tampered, 1u);
  EXPECT_EQ(client->close_reason(), DestroyReason::kTampered);
  EXPECT_EQ(exit.close_reason(), DestroyReason::kTampered);
}

TEST_F(LoopbackAttacks, ReplayedCreateIsRejectedAndTheOriginalCircuitLives) {
  start(4);
  Cell captured{};
  int creates = 0;
  node(0).tap->set_filter([&](const PeerKey&, Cell& cell) {
    if (is_command(cell, CellCommand::kCreate) && creates++ == 0) {
      captured = cell;
    }
    return true;
  });
  auto client = build({1, 2, 3});
  ASSERT_EQ(creates, 1);
  ASSERT_EQ(client->state(), State::kOpen);
  ASSERT_EQ(node(3).ends.size(), 1u);
  EXPECT_EQ(node(1).relay->counters().creates_accepted, 1u);
  const PeerKey entry = node(1).keys.descriptor.link_key;

  // The same CREATE again on the same link, on a fresh circuit id so only the
  // replay cache can catch it.
  Cell replay = captured;
  store_be32(replay.data(), load_be32(captured.data()) ^ 0x1234u);
  ASSERT_TRUE(node(0).tap->inner().send_cell(entry, replay));
  // Its DESTROY comes back to the client for a circuit it never had.
  ASSERT_TRUE(run_until([&] {
    return node(1).relay->counters().creates_replay >= 1 &&
           node(0).relay->counters().dropped_unknown_circuit >= 1;
  }));
  // From another neighbour, on another link: the cache is per onion key.
  ASSERT_TRUE(node(3).tap->inner().send_cell(entry, captured));
  ASSERT_TRUE(run_until([&] { return node(1).relay->counters().creates_replay >= 2; }));

  EXPECT_EQ(node(1).relay->counters().creates_replay, 2u);
  EXPECT_EQ(node(1).relay->counters().creates_accepted, 1u);
  EXPECT_EQ(node(1).relay->circuit_count(), 1u);
  EXPECT_EQ(node(2).relay->counters().creates_accepted, 1u);
  EXPECT_EQ(node(3).relay->counters().creates_accepted, 1u);
  EXPECT_EQ(node(3).ends.size(), 1u);

  // The original circuit is untouched and carries data both ways.
  Circuit& exit = *node(3).ends[0];
  Collect at_exit;
  Collect at_client;
  exit.set_receiver(&at_exit);
  client->set_receiver(&at_client);
  ASSERT_EQ(client->send(bytes_of("after the replay")), SendOutcome::kSent);
  ASSERT_EQ(exit.send(bytes_of("and back")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] { return !at_exit.got.empty() && !at_client.got.empty(); }));
  EXPECT_EQ(at_exit.got[0], bytes_of("after the replay"));
  EXPECT_EQ(at_client.got[0], bytes_of("and back"));
  EXPECT_EQ(client->state(), State::kOpen);
}

// Hands every cell queued at the client to the kernel now, so the whole
// burst waits in the entry's socket before the entry reads any of it.
void flush_all(testing::LoopbackNode& client) {
  while (client.relay->queued_cells() > 0) {
    client.relay->flush();
  }
  client.links->flush();
}

TEST_F(LoopbackAttacks, OverloadedRelayDropsOnlyTheExcessFairlyAndNeverGrows) {
  constexpr std::size_t kLinkQueue = 16;
  constexpr std::size_t kCircuitQueue = 12;
  testing::LoopbackOptions options;
  options.relay_config = [&](int index) {
    RelayConfig config;
    if (index == 1) {  // the entry is the bottleneck
      config.link_queue_cells = kLinkQueue;
      config.circuit_queue_cells = kCircuitQueue;
      config.flush_cells_per_link = 4;
    }
    return config;
  };
  start(4, options);
  auto heavy = build({1, 2, 3});
  auto light = build({1, 2, 3});
  ASSERT_EQ(heavy->state(), State::kOpen);
  ASSERT_EQ(light->state(), State::kOpen);
  ASSERT_EQ(node(3).ends.size(), 2u);
  Collect heavy_rx;
  Collect light_rx;
  node(3).ends[0]->set_receiver(&heavy_rx);
  node(3).ends[1]->set_receiver(&light_rx);
  // The entry's queue towards the middle, seen whenever it sends a cell.
  const PeerKey middle = node(2).keys.descriptor.link_key;
  std::size_t peak = 0;
  node(1).tap->set_filter([&](const PeerKey& to, Cell&) {
    if (to == middle) {
      peak = std::max(peak, node(1).relay->queued_cells(to));
    }
    return true;
  });
  const RelayCounters before = node(1).relay->counters();

  // A burst on the heavy circuit first, then a few cells on the light one.
  constexpr std::size_t kHeavy = 100;
  constexpr std::size_t kLight = 4;
  for (std::size_t i = 0; i < kHeavy; ++i) {
    ASSERT_EQ(heavy->send(bytes_of(fmt::format("h{}", i))), SendOutcome::kSent);
  }
  flush_all(node(0));
  for (std::size_t i = 0; i < kLight; ++i) {
    ASSERT_EQ(light->send(bytes_of(fmt::format("l{}", i))), SendOutcome::kSent);
  }
  flush_all(node(0));

  auto dropped = [&] {
    return node(1).relay->counters().dropped_queue_full - before.dropped_queue_full;
  };
  ASSERT_TRUE(run_until([&] {
    return heavy_rx.got.size() + dropped() == kHeavy && light_rx.got.size() == kLight;
  })) << heavy_rx.got.size()
      << " + " << dropped() << " / " << light_rx.got.size();
  // Every cell reached the entry; it dropped only what did not fit.
  EXPECT_EQ(node(1).relay->counters().cells_received - before.cells_received, kHeavy + kLight);
  EXPECT_GT(dropped(), 0u);
  EXPECT_GE(heavy_rx.got.size(), kCircuitQueue);
  // The heavy circuit could take no more than its share: the light one lost nothing.
  EXPECT_EQ(light_rx.got.size(), kLight);
  EXPECT_GT(peak, 0u);
  EXPECT_LE(peak, kLinkQueue);
  EXPECT_EQ(node(1).relay->queued_cells(), 0u);
  // Dropping is not destroying: both circuits still carry data.
  EXPECT_EQ(heavy->state(), State::kOpen);
  EXPECT_EQ(light->state(), State::kOpen);
  ASSERT_EQ(heavy->send(bytes_of("after")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] { return heavy_rx.got.back() == bytes_of("after"); }));
}

TEST_F(LoopbackAttacks, CoverCellsAreDroppedAtTheirEndAndNeverReachTheStream) {
  testing::LoopbackOptions options;
  options.relay_clock = &manual_clock;
  start(4, options);
  // Declared before the circuit: the client's DESTROY passes the filter below.
  std::size_t odd_cells = 0;
  auto client = build({1, 2, 3});
  ASSERT_EQ(client->state(), State::kOpen);
  ASSERT_EQ(node(3).ends.size(), 1u);
  Circuit& exit = *node(3).ends[0];
  Collect at_exit;
  Collect at_client;
  exit.set_receiver(&at_exit);
  client->set_receiver(&at_client);
  client->set_cover_rate(100);
  exit.set_cover_rate(100);
  // Every cell that leaves either end (until the test closes it), as a
  // neighbour on its link sees it.
  for (int end : {0, 3}) {
    node(end).tap->set_filter([&](const PeerKey&, Cell& cell) {
      if (!is_command(cell, CellCommand::kRelay)) {
        ++odd_cells;
      }
      return true;
    });
  }
  auto client_sent = [&] { return node(0).tap->sent(CellCommand::kRelay); };
  auto exit_sent = [&] { return node(3).tap->sent(CellCommand::kRelay); };
  for (int round = 0; round < 10; ++round) {
    manual_clock.advance(100ms);
    for (auto& n : nodes) {
      n->relay->tick();
    }
    ASSERT_TRUE(run_until([&] {
      return node(0).relay->queued_cells() == 0 && node(3).relay->queued_cells() == 0 &&
             exit.cover_cells_received() == client_sent() &&
             client->cover_cells_received() == exit_sent();
    })) << round;
  }
  // About 100 each way at 100 cells/s for 1 s.
  EXPECT_GT(exit.cover_cells_received(), 20u);
  EXPECT_GT(client->cover_cells_received(), 20u);
  EXPECT_EQ(node(3).relay->counters().cover_dropped, exit.cover_cells_received());
  EXPECT_EQ(node(0).relay->counters().cover_dropped, client->cover_cells_received());
  EXPECT_TRUE(at_exit.got.empty());
  EXPECT_TRUE(at_client.got.empty());
  // On the wire they were RELAY cells like data, and every hop relayed them as data.
  EXPECT_EQ(odd_cells, 0u);
  const std::uint64_t total = client_sent() + exit_sent();
  EXPECT_EQ(node(1).relay->counters().cells_relayed, total);
  EXPECT_EQ(node(2).relay->counters().cells_relayed, total);
  EXPECT_EQ(exit.state(), State::kOpen);

  ASSERT_EQ(client->send(bytes_of("real")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] { return !at_exit.got.empty(); }));
  EXPECT_EQ(at_exit.got, std::vector<std::vector<std::uint8_t>>{bytes_of("real")});
}

}  // namespace
}  // namespace nyx::mix
