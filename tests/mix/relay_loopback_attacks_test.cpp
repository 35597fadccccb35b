// Attacks and overload over real links, between in-process nodes on
// 127.0.0.1 UDP (tests/mix/support/loopback_network.hpp): a tampered cell
// either way, a tag that a colluding entry and exit (or exit and entry)
// put on and take off again, replayed and reordered data cells, a replayed
// CREATE, an overloaded relay and cover traffic. A TapCellLink stands where
// an attacker on a link would; it sees the cells a node sends, so a
// colluder's work on arrival is done on the link into it.
#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/crypto/random.hpp"
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

// A colluders' tag: 32 random bytes XORed into a cell's body, and XORed off
// again further along. Against a malleable stream cipher it would come off
// clean and mark the cell; here the first honest hop step turns it to noise.
using Tag = std::array<std::uint8_t, 32>;
constexpr std::size_t kTagAt = kCellHeaderSize + kHopHeaderSize + 64;

Tag random_tag() {
  Tag tag;
  crypto::random_bytes(tag);
  return tag;
}

void xor_tag(const Tag& tag, Cell& cell) {
  for (std::size_t i = 0; i < tag.size(); ++i) {
    cell[kTagAt + i] ^= tag[i];
  }
}

// Sorted copies of what an end received, for checks that ignore order.
std::vector<std::vector<std::uint8_t>> sorted(std::vector<std::vector<std::uint8_t>> got) {
  std::sort(got.begin(), got.end());
  return got;
}

// The middle, the first honest hop after the change, catches it: its header
// no longer deciphers.
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
  EXPECT_EQ(node(2).relay->counters().tampered, 1u);
  EXPECT_EQ(node(3).relay->counters().tampered, 0u);
  // The middle's END goes to the client; downstream nobody shares its keys,
  // so the exit learns only that the circuit closed.
  EXPECT_EQ(exit.close_reason(), DestroyReason::kUnknown);
  EXPECT_EQ(client->close_reason(), DestroyReason::kTampered);
  EXPECT_EQ(client->send(bytes_of("x")), SendOutcome::kClosed);

  // Only that circuit went: the other one over the same links still carries data.
  ASSERT_EQ(bystander->state(), State::kOpen);
  Collect at_other_exit;
  node(3).ends[1]->set_receiver(&at_other_exit);
  ASSERT_EQ(bystander->send(bytes_of("still here")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] { return !at_other_exit.got.empty(); }));
  EXPECT_EQ(at_other_exit.got[0], bytes_of("still here"));
  EXPECT_EQ(node(2).relay->counters().tampered, 1u);
}

TEST_F(LoopbackAttacks, TamperedBackwardCellDestroysTheCircuitAtBothEnds) {
  start(4);
  auto client = build({1, 2, 3});
  ASSERT_EQ(client->state(), State::kOpen);
  ASSERT_EQ(node(3).ends.size(), 1u);
  Circuit& exit = *node(3).ends[0];
  Collect at_client;
  client->set_receiver(&at_client);
  // The middle flips a bit of its random bytes r in the next RELAY cell it
  // sends back; the client, which checks the exit's header, catches it.
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
  EXPECT_EQ(exit.close_reason(),
            DestroyReason::kTampered);  // the client's END, through every layer
}

// The entry tags a forward cell and the exit would take the tag off on
// arrival: the middle's step has already failed, so nothing arrives.
TEST_F(LoopbackAttacks, EntryTagForwardIsDroppedByMiddle) {
  start(4);
  auto client = build({1, 2, 3});
  auto bystander = build({1, 2, 3});
  ASSERT_EQ(client->state(), State::kOpen);
  ASSERT_EQ(bystander->state(), State::kOpen);
  ASSERT_EQ(node(3).ends.size(), 2u);
  Circuit& exit = *node(3).ends[0];
  Collect at_exit;
  exit.set_receiver(&at_exit);
  const Tag tag = random_tag();
  const PeerKey middle = node(2).keys.descriptor.link_key;
  const PeerKey exit_link = node(3).keys.descriptor.link_key;
  int tagged = 0;
  int untagged = 0;
  node(1).tap->set_filter([&](const PeerKey& to, Cell& cell) {
    if (tagged == 0 && to == middle && is_command(cell, CellCommand::kRelay)) {
      xor_tag(tag, cell);
      ++tagged;
    }
    return true;
  });
  node(2).tap->set_filter([&](const PeerKey& to, Cell& cell) {
    if (to == exit_link && is_command(cell, CellCommand::kRelay)) {
      xor_tag(tag, cell);
      ++untagged;
    }
    return true;
  });
  ASSERT_EQ(client->send(bytes_of("tag me")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] {
    return client->state() == State::kClosed && exit.state() == State::kClosed &&
           node(1).relay->circuit_count() == 1 && node(2).relay->circuit_count() == 1;
  }));
  EXPECT_EQ(tagged, 1);
  EXPECT_EQ(untagged, 0);  // the middle sent nothing on
  EXPECT_TRUE(at_exit.got.empty());
  EXPECT_EQ(node(2).relay->counters().tampered, 1u);
  EXPECT_EQ(node(3).relay->counters().tampered, 0u);
  EXPECT_EQ(client->close_reason(), DestroyReason::kTampered);
  EXPECT_EQ(exit.close_reason(), DestroyReason::kUnknown);  // the middle's reason is the client's

  node(1).tap->set_filter({});
  node(2).tap->set_filter({});
  ASSERT_EQ(bystander->state(), State::kOpen);
  Collect at_other_exit;
  node(3).ends[1]->set_receiver(&at_other_exit);
  ASSERT_EQ(bystander->send(bytes_of("still here")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] { return !at_other_exit.got.empty(); }));
  EXPECT_EQ(at_other_exit.got[0], bytes_of("still here"));
}

// The same backward: the exit tags a cell and the entry takes the tag off on
// its way to the client. The middle's step has made the cell noise; the
// client's check fails and it destroys the circuit.
TEST_F(LoopbackAttacks, ExitTagBackwardIsDroppedByClient) {
  start(4);
  auto client = build({1, 2, 3});
  ASSERT_EQ(client->state(), State::kOpen);
  ASSERT_EQ(node(3).ends.size(), 1u);
  Circuit& exit = *node(3).ends[0];
  Collect at_client;
  client->set_receiver(&at_client);
  const Tag tag = random_tag();
  const PeerKey middle = node(2).keys.descriptor.link_key;
  const PeerKey client_link = node(0).keys.descriptor.link_key;
  int tagged = 0;
  int untagged = 0;
  node(3).tap->set_filter([&](const PeerKey& to, Cell& cell) {
    if (tagged == 0 && to == middle && is_command(cell, CellCommand::kRelay)) {
      xor_tag(tag, cell);
      ++tagged;
    }
    return true;
  });
  node(1).tap->set_filter([&](const PeerKey& to, Cell& cell) {
    if (to == client_link && is_command(cell, CellCommand::kRelay)) {
      xor_tag(tag, cell);
      ++untagged;
    }
    return true;
  });
  ASSERT_EQ(exit.send(bytes_of("tag me")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] {
    return client->state() == State::kClosed && exit.state() == State::kClosed &&
           node(1).relay->circuit_count() == 0 && node(2).relay->circuit_count() == 0;
  }));
  EXPECT_EQ(tagged, 1);
  EXPECT_EQ(untagged, 1);
  EXPECT_TRUE(at_client.got.empty());
  EXPECT_EQ(node(0).relay->counters().tampered, 1u);
  EXPECT_EQ(client->close_reason(), DestroyReason::kTampered);
  EXPECT_EQ(exit.close_reason(),
            DestroyReason::kTampered);  // the client's END, through every layer
}

// The entry sends every RELAY cell to the middle twice: the middle drops
// each second copy and counts it; data keeps flowing and the circuit lives.
TEST_F(LoopbackAttacks, EntryReplayIsCountedAtMiddle) {
  start(4);
  auto client = build({1, 2, 3});
  ASSERT_EQ(client->state(), State::kOpen);
  ASSERT_EQ(node(3).ends.size(), 1u);
  Circuit& exit = *node(3).ends[0];
  Collect at_exit;
  Collect at_client;
  exit.set_receiver(&at_exit);
  client->set_receiver(&at_client);
  const PeerKey middle = node(2).keys.descriptor.link_key;
  int copies = 0;
  node(1).tap->set_filter([&](const PeerKey& to, Cell& cell) {
    if (to == middle && is_command(cell, CellCommand::kRelay)) {
      EXPECT_TRUE(node(1).tap->inner().send_cell(middle, cell));
      ++copies;
    }
    return true;
  });
  constexpr int kCells = 5;
  std::vector<std::vector<std::uint8_t>> sent;
  for (int i = 0; i < kCells; ++i) {
    sent.push_back(bytes_of(fmt::format("r{}", i)));
    ASSERT_EQ(client->send(sent.back()), SendOutcome::kSent);
  }
  ASSERT_TRUE(run_until([&] {
    return at_exit.got.size() == kCells &&
           node(2).relay->counters().dropped_replayed == static_cast<std::uint64_t>(kCells);
  })) << at_exit.got.size()
      << " / " << node(2).relay->counters().dropped_replayed;
  EXPECT_EQ(copies, kCells);
  EXPECT_EQ(sorted(at_exit.got), sorted(sent));
  EXPECT_EQ(node(2).relay->counters().tampered, 0u);
  EXPECT_EQ(node(2).relay->counters().dropped_too_old, 0u);
  EXPECT_EQ(client->state(), State::kOpen);
  EXPECT_EQ(exit.state(), State::kOpen);

  ASSERT_EQ(exit.send(bytes_of("and back")), SendOutcome::kSent);
  ASSERT_EQ(client->send(bytes_of("and on")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] {
    return !at_client.got.empty() && at_exit.got.size() > kCells &&
           node(2).relay->counters().dropped_replayed == static_cast<std::uint64_t>(kCells + 1);
  }));
  EXPECT_EQ(at_client.got[0], bytes_of("and back"));
  EXPECT_EQ(at_exit.got.back(), bytes_of("and on"));
  EXPECT_EQ(client->state(), State::kOpen);
}

// The entry holds the client's cells back and releases them in reverse:
// the middle's window takes cells in any order within an epoch, so each is
// delivered, and only once.
TEST_F(LoopbackAttacks, ReorderedCellsAreAllDeliveredOnce) {
  start(4);
  auto client = build({1, 2, 3});
  ASSERT_EQ(client->state(), State::kOpen);
  ASSERT_EQ(node(3).ends.size(), 1u);
  Collect at_exit;
  node(3).ends[0]->set_receiver(&at_exit);
  const PeerKey middle = node(2).keys.descriptor.link_key;
  bool holding = true;
  std::vector<Cell> held;
  node(1).tap->set_filter([&](const PeerKey& to, Cell& cell) {
    if (holding && to == middle && is_command(cell, CellCommand::kRelay)) {
      held.push_back(cell);
      return false;
    }
    return true;
  });
  constexpr std::size_t kCells = 8;
  std::vector<std::vector<std::uint8_t>> sent;
  for (std::size_t i = 0; i < kCells; ++i) {
    sent.push_back(bytes_of(fmt::format("o{}", i)));
    ASSERT_EQ(client->send(sent.back()), SendOutcome::kSent);
  }
  ASSERT_TRUE(run_until([&] { return held.size() == kCells; }));
  holding = false;
  for (auto it = held.rbegin(); it != held.rend(); ++it) {
    ASSERT_TRUE(node(1).tap->inner().send_cell(middle, *it));
  }
  node(1).links->flush();
  ASSERT_TRUE(run_until([&] { return at_exit.got.size() >= kCells; }));
  // One more cell behind them: by the time it arrives, a duplicate would have too.
  ASSERT_EQ(client->send(bytes_of("last")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] { return at_exit.got.back() == bytes_of("last"); }));
  ASSERT_EQ(at_exit.got.size(), kCells + 1);
  at_exit.got.pop_back();
  EXPECT_EQ(sorted(at_exit.got), sorted(sent));
  EXPECT_EQ(node(2).relay->counters().dropped_replayed, 0u);
  EXPECT_EQ(node(2).relay->counters().dropped_too_old, 0u);
  EXPECT_EQ(node(2).relay->counters().tampered, 0u);
  EXPECT_EQ(client->state(), State::kOpen);
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
