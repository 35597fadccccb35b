#include "mix/create_dir.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/bytes.hpp"
#include "core/crypto/blake2b.hpp"
#include "mix/cell.hpp"
#include "mix/circuit_crypto.hpp"
#include "mix/onion_create.hpp"
#include "mix/onion_key_ring.hpp"
#include "mix/relay.hpp"
#include "mix/support/cell_checks.hpp"
#include "mix/support/loopback_network.hpp"
#include "mix/support/memory_network.hpp"

namespace nyx::mix {
namespace {

using testing::MemoryNetwork;
using Collect = testing::DatagramCollector;
using testing::bytes_of;
using testing::is_command;

template <std::size_t N>
std::vector<std::uint8_t> to_vector(std::span<const std::uint8_t, N> bytes) {
  return {bytes.begin(), bytes.end()};
}

// What a permutation makes of one fixed block under one fixed tweak: equal
// for equal round keys.
std::array<std::uint8_t, kCellPermBlockSize> enciphered(const CellPermutation& p) {
  std::array<std::uint8_t, kCellPermBlockSize> block{};
  std::array<std::uint8_t, 16> h{};
  for (std::size_t i = 0; i < block.size(); ++i) {
    block[i] = static_cast<std::uint8_t>(i);
    h[i] = static_cast<std::uint8_t>(0xa0 + i);
  }
  p.encipher(h, static_cast<std::uint8_t>(CellCommand::kRelay), block);
  return block;
}

void expect_same_direction(const DirectionKeys& a, const DirectionKeys& b) {
  EXPECT_EQ(to_vector(a.stream.span()), to_vector(b.stream.span()));
  EXPECT_EQ(to_vector(a.hash.span()), to_vector(b.hash.span()));
  EXPECT_EQ(enciphered(a.perm), enciphered(b.perm));
}

void expect_same_keys(const HopKeys& a, const HopKeys& b) {
  expect_same_direction(a.forward, b.forward);
  expect_same_direction(a.backward, b.backward);
}

RelayConfig directory_config() {
  RelayConfig config;
  config.serves_directory = true;
  return config;
}

// A network whose node 1 (and every other) serves directories, collecting
// the directory circuits that end at node 1.
struct DirectoryNet {
  explicit DirectoryNet(RelayConfig config = directory_config(), int nodes = 2)
      : net(nodes, config) {
    net.relay(1).set_directory_handler(
        [this](std::unique_ptr<Circuit> circuit) { directory.push_back(std::move(circuit)); });
  }
  MemoryNetwork net;
  std::vector<std::unique_ptr<Circuit>> directory;
};

std::unique_ptr<Circuit> open_directory_circuit(MemoryNetwork& net, int from, int to) {
  auto circuit = net.relay(from).create_directory_circuit(net.hop(to).link_key);
  EXPECT_TRUE(circuit.has_value());
  net.run();
  return circuit ? std::move(*circuit) : nullptr;
}

// A directory circuit from node 0 to node 1, open, with the circuit id its
// CREATE_DIR carried on that link: what an attacker on the link would reuse.
struct WatchedDirectoryCircuit {
  std::unique_ptr<Circuit> client;
  CircuitId id = 0;
};

WatchedDirectoryCircuit open_watched_directory_circuit(DirectoryNet& d) {
  WatchedDirectoryCircuit watched;
  d.net.set_filter([&watched](int from, int, Cell& cell) {
    if (from == 0 && is_command(cell, CellCommand::kCreateDir)) {
      watched.id = load_be32(cell.data());
    }
    return true;
  });
  watched.client = open_directory_circuit(d.net, 0, 1);
  d.net.set_filter([](int, int, Cell&) { return true; });  // `watched` moves out
  EXPECT_NE(watched.client, nullptr);
  EXPECT_NE(watched.id, 0u);
  return watched;
}

// --- The cell and the keys ---------------------------------------------------

TEST(CreateDirCell, IsCommandFiveOnACircuitId) {
  Cell cell{};
  write_cell_header(cell, 7, CellCommand::kCreateDir);
  EXPECT_EQ(cell[kCircuitIdSize], 5);
  auto view = parse_cell(cell);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->command, CellCommand::kCreateDir);
  write_cell_header(cell, 0, CellCommand::kCreateDir);  // id 0 is PADDING's
  EXPECT_FALSE(parse_cell(cell).has_value());
  write_cell_header(cell, 7, CellCommand::kCreateDir);
  cell[kCircuitIdSize] = 6;
  EXPECT_FALSE(parse_cell(cell).has_value());
}

TEST(CreateDir, PayloadIsFreshXThenZeros) {
  const ClientCreateDir a = build_create_dir();
  const ClientCreateDir b = build_create_dir();
  EXPECT_EQ(a.payload.size(), kCellPayloadSize);
  EXPECT_TRUE(std::all_of(a.payload.begin() + kCreateDirSecretSize, a.payload.end(),
                          [](std::uint8_t byte) { return byte == 0; }));
  EXPECT_FALSE(
      std::equal(a.payload.begin(), a.payload.begin() + kCreateDirSecretSize, b.payload.begin()));
}

// Both ends hold the keys of protocol.md "Circuit keys" from
// s = KDF(x, "mix-create-dir", 32).
TEST(CreateDir, BothEndsDeriveTheCircuitKeysOfS) {
  const ClientCreateDir client = build_create_dir();
  auto hop = process_create_dir(client.payload);
  ASSERT_TRUE(hop.has_value());
  expect_same_keys(client.keys, *hop);

  std::array<std::uint8_t, 32> s;
  crypto::kdf(s, std::span<const std::uint8_t, 32>(client.payload.data(), 32), "mix-create-dir");
  expect_same_keys(*hop, HopKeys::derive(s));
  // The keys come from s, not from x itself.
  const HopKeys from_x =
      HopKeys::derive(std::span<const std::uint8_t, 32>(client.payload.data(), 32));
  EXPECT_NE(to_vector(from_x.forward.stream.span()), to_vector(hop->forward.stream.span()));
}

TEST(CreateDir, AnyNonZeroPaddingByteIsAProtocolError) {
  for (std::size_t at : {kCreateDirSecretSize, kCellPayloadSize / 2, kCellPayloadSize - 1}) {
    ClientCreateDir client = build_create_dir();
    client.payload[at] = 0x01;
    auto hop = process_create_dir(client.payload);
    ASSERT_FALSE(hop.has_value()) << at;
    EXPECT_EQ(hop.error().category, ErrorCategory::kProtocol);
  }
  const ClientCreateDir client = build_create_dir();
  EXPECT_FALSE(process_create_dir(Bytes(client.payload).first(kCellPayloadSize - 1)).has_value());
}

// --- The relay -----------------------------------------------------------------

TEST(RelayCreateDir, ADirectoryCircuitCarriesDataBothWays) {
  DirectoryNet d;
  auto created = d.net.relay(0).create_directory_circuit(d.net.hop(1).link_key);
  ASSERT_TRUE(created.has_value());
  std::unique_ptr<Circuit> client = std::move(*created);
  EXPECT_EQ(client->state(), Circuit::State::kBuilding);
  d.net.run();
  ASSERT_EQ(client->state(), Circuit::State::kOpen);
  ASSERT_EQ(d.directory.size(), 1u);
  Circuit& server = *d.directory[0];

  Collect at_server;
  Collect at_client;
  server.set_receiver(&at_server);
  client->set_receiver(&at_client);
  std::vector<std::uint8_t> big(client->max_datagram_size(), 0x5a);
  ASSERT_EQ(client->send(bytes_of("GET_CONSENSUS")), SendOutcome::kSent);
  ASSERT_EQ(client->send(big), SendOutcome::kSent);
  d.net.run();
  ASSERT_EQ(at_server.got.size(), 2u);
  EXPECT_EQ(at_server.got[0], bytes_of("GET_CONSENSUS"));
  EXPECT_EQ(at_server.got[1], big);
  ASSERT_EQ(server.send(bytes_of("consensus")), SendOutcome::kSent);
  d.net.run();
  ASSERT_EQ(at_client.got.size(), 1u);
  EXPECT_EQ(at_client.got[0], bytes_of("consensus"));

  const RelayCounters c = d.net.relay(1).counters();
  EXPECT_EQ(c.create_dirs_accepted, 1u);
  EXPECT_EQ(c.creates_accepted, 0u);
  EXPECT_EQ(d.net.relay(1).circuit_count(), 1u);
  // Closing from the client frees the hop.
  client->close();
  d.net.run();
  EXPECT_EQ(d.net.relay(1).circuit_count(), 0u);
  EXPECT_EQ(server.state(), Circuit::State::kClosed);
}

TEST(RelayCreateDir, ANodeThatServesNoDirectoryAnswersDestroy4) {
  MemoryNetwork net(2);  // serves_directory off
  std::vector<std::unique_ptr<Circuit>> directory;
  net.relay(1).set_directory_handler(
      [&](std::unique_ptr<Circuit> circuit) { directory.push_back(std::move(circuit)); });
  auto client = open_directory_circuit(net, 0, 1);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->state(), Circuit::State::kClosed);
  EXPECT_EQ(client->close_reason(), DestroyReason::kCreateFailed);
  EXPECT_TRUE(directory.empty());
  EXPECT_TRUE(net.terminals(1).empty());
  EXPECT_EQ(net.relay(1).circuit_count(), 0u);
  EXPECT_EQ(net.relay(1).counters().create_dirs_refused, 1u);
  EXPECT_EQ(net.relay(0).circuit_count(), 0u);
}

// The rule of proposal 0002, section 4.2: a directory circuit never reaches
// the exit's handler, even where there is no directory handler to take it.
TEST(RelayCreateDir, ADirectoryCircuitNeverReachesTheTerminalHandler) {
  MemoryNetwork net(2, directory_config());  // the flag, a terminal handler, no directory handler
  auto refused = open_directory_circuit(net, 0, 1);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->state(), Circuit::State::kClosed);
  EXPECT_EQ(refused->close_reason(), DestroyReason::kCreateFailed);
  EXPECT_TRUE(net.terminals(1).empty());

  std::vector<std::unique_ptr<Circuit>> directory;
  net.relay(1).set_directory_handler(
      [&](std::unique_ptr<Circuit> circuit) { directory.push_back(std::move(circuit)); });
  auto served = open_directory_circuit(net, 0, 1);
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(served->state(), Circuit::State::kOpen);
  EXPECT_EQ(directory.size(), 1u);
  EXPECT_TRUE(net.terminals(1).empty());

  // And an ordinary circuit ending at the same node reaches the terminal
  // handler, never the directory's.
  auto ordinary = net.relay(0).create_circuit(net.hops({1}));
  ASSERT_TRUE(ordinary.has_value());
  net.run();
  EXPECT_EQ((*ordinary)->state(), Circuit::State::kOpen);
  EXPECT_EQ(net.terminals(1).size(), 1u);
  EXPECT_EQ(directory.size(), 1u);
}

TEST(RelayCreateDir, NonZeroPaddingIsAnsweredDestroy1) {
  DirectoryNet d;
  d.net.set_filter([](int, int, Cell& cell) {
    if (is_command(cell, CellCommand::kCreateDir)) {
      cell[kCellSize - 1] = 0x80;
    }
    return true;
  });
  auto client = open_directory_circuit(d.net, 0, 1);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->state(), Circuit::State::kClosed);
  EXPECT_EQ(client->close_reason(), DestroyReason::kCreateFailed);
  EXPECT_TRUE(d.directory.empty());
  EXPECT_EQ(d.net.relay(1).counters().create_dirs_refused, 1u);
  EXPECT_EQ(d.net.relay(1).circuit_count(), 0u);
}

// A CREATE_DIR on a live circuit id is dropped, as a second CREATE is: no
// DESTROY may name the live circuit.
TEST(RelayCreateDir, ACreateDirOnALiveCircuitIdIsDropped) {
  DirectoryNet d;
  auto [client, live] = open_watched_directory_circuit(d);
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(client->state(), Circuit::State::kOpen);
  Cell again{};
  write_cell_header(again, live, CellCommand::kCreateDir);
  const std::uint64_t before = d.net.relay(1).counters().dropped_malformed;
  d.net.relay(1).handle_cell(d.net.hop(0).link_key, again);
  d.net.run();
  EXPECT_EQ(d.net.relay(1).counters().dropped_malformed, before + 1);
  EXPECT_EQ(client->state(), Circuit::State::kOpen);
  EXPECT_EQ(d.directory.size(), 1u);
}

CreateLimits small_limits() {
  CreateLimits limits;
  limits.rate_per_address = 3;
  limits.burst_per_address = 5;
  limits.rate_per_relay = 10;
  limits.burst_per_relay = 8;
  limits.rate_max = 1;
  limits.burst_max = 2;  // less than one group's burst
  return limits;
}

// Admission (proposal 0002, section 9): a CREATE_DIR flood from one group
// is held to the group's bucket and takes nothing from the node-wide one,
// which stays whole for other groups' CREATEs.
TEST(RelayCreateDir, AdmissionHoldsAFloodToItsGroupAndSparesTheNodeWideBucket) {
  RelayConfig config = directory_config();
  config.create_limits = small_limits();
  DirectoryNet d(config, 3);
  std::vector<std::unique_ptr<Circuit>> clients;
  for (int i = 0; i < 20; ++i) {
    auto circuit = d.net.relay(0).create_directory_circuit(d.net.hop(1).link_key);
    ASSERT_TRUE(circuit.has_value());
    clients.push_back(std::move(*circuit));
  }
  d.net.run();
  RelayCounters c = d.net.relay(1).counters();
  EXPECT_EQ(c.create_dirs_accepted, 5u);  // more than the node-wide burst of 2
  EXPECT_EQ(c.create_dirs_rate_limited, 15u);
  EXPECT_EQ(c.creates_overloaded, 0u);
  EXPECT_EQ(c.creates_rate_limited, 0u);
  EXPECT_EQ(d.directory.size(), 5u);
  EXPECT_EQ(clients[0]->state(), Circuit::State::kOpen);
  EXPECT_EQ(clients[19]->state(), Circuit::State::kClosed);
  EXPECT_EQ(clients[19]->close_reason(), DestroyReason::kCreateFailed);
  // The group's bucket is the one its CREATEs take from too.
  auto same_group = d.net.relay(0).create_circuit(d.net.hops({1}));
  ASSERT_TRUE(same_group.has_value());
  d.net.run();
  EXPECT_EQ(d.net.relay(1).counters().creates_rate_limited, 1u);
  EXPECT_EQ((*same_group)->close_reason(), DestroyReason::kCreateFailed);

  // The node-wide bucket is whole: another group gets its burst of 2 CREATEs.
  std::vector<std::unique_ptr<Circuit>> others;
  for (int i = 0; i < 3; ++i) {
    auto circuit = d.net.relay(2).create_circuit(d.net.hops({1}));
    ASSERT_TRUE(circuit.has_value());
    others.push_back(std::move(*circuit));
  }
  d.net.run();
  c = d.net.relay(1).counters();
  EXPECT_EQ(c.creates_accepted, 2u);
  EXPECT_EQ(c.creates_overloaded, 1u);
  EXPECT_EQ(others[0]->state(), Circuit::State::kOpen);
  EXPECT_EQ(others[1]->state(), Circuit::State::kOpen);
  EXPECT_EQ(others[2]->close_reason(), DestroyReason::kCreateFailed);
  // And another group's CREATE_DIRs are untouched by the flood.
  auto other_dir = open_directory_circuit(d.net, 2, 1);
  ASSERT_NE(other_dir, nullptr);
  EXPECT_EQ(other_dir->state(), Circuit::State::kOpen);
}

TEST(RelayCreateDir, AFullCircuitTableRejectsIt) {
  RelayConfig config = directory_config();
  config.max_circuits = 1;
  DirectoryNet d(config);
  auto first = open_directory_circuit(d.net, 0, 1);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->state(), Circuit::State::kOpen);
  // Node 0's table is full too (its origin end): send from outside the table.
  const ClientCreateDir create = build_create_dir();
  Cell cell{};
  write_cell_header(cell, 0x1234, CellCommand::kCreateDir);
  std::copy(create.payload.begin(), create.payload.end(), cell.begin() + kCellHeaderSize);
  d.net.relay(1).handle_cell(d.net.hop(0).link_key, cell);
  EXPECT_EQ(d.net.relay(1).counters().create_dirs_rejected, 1u);
  EXPECT_EQ(d.directory.size(), 1u);
}

// A hop cannot make a directory circuit ask for a next onion key: a REFUSED
// answer fails the setup.
TEST(RelayCreateDir, ARefusedAnswerFailsTheSetup) {
  DirectoryNet d;
  bool asked = false;
  d.net.relay(0).set_next_onion_key_lookup([&](const OnionHop&) {
    asked = true;
    return std::optional<crypto::X25519PublicKey>(d.net.hop(1).onion_key);
  });
  // Node 1 answers as if it refused a closed key: the client's CREATED is
  // replaced by a REFUSED originated under the same keys.
  std::vector<HopKeys> hop_keys;
  d.net.set_filter([&](int from, int, Cell& cell) {
    if (from == 0 && is_command(cell, CellCommand::kCreateDir)) {
      auto keys = process_create_dir(Bytes(cell).subspan(kCellHeaderSize));
      EXPECT_TRUE(keys.has_value());
      hop_keys.push_back(std::move(*keys));
    }
    if (from == 1 && is_command(cell, CellCommand::kCreated) && !hop_keys.empty()) {
      const std::array<std::uint8_t, 1> reason{
          static_cast<std::uint8_t>(RefusedReason::kKeyClosed)};
      const std::array<std::uint8_t, kHopHeaderSize> r{};
      originate(hop_keys[0].backward, CellCommand::kCreated, 0, RelayType::kRefused, reason, r,
                cell_payload(cell).subspan<0, kCellPayloadSize>());
    }
    return true;
  });
  auto client = open_directory_circuit(d.net, 0, 1);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->state(), Circuit::State::kClosed);
  EXPECT_EQ(client->close_reason(), DestroyReason::kCreateFailed);
  EXPECT_FALSE(asked);
}

// Nyx never extends a circuit, and a directory circuit least of all: a
// CREATE on its live id (an attempt to grow it into a path through node 1)
// is dropped as a second CREATE is, and what the client sends on it ends at
// node 1's directory end.
TEST(RelayCreateDir, ADirectoryCircuitIsNeverExtendedOrRelayedOnward) {
  DirectoryNet d(directory_config(), 3);
  auto [client, live] = open_watched_directory_circuit(d);
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(client->state(), Circuit::State::kOpen);
  ASSERT_EQ(d.directory.size(), 1u);

  auto onward = build_create(d.net.hops({1, 2}));
  ASSERT_TRUE(onward.has_value());
  Cell extend{};
  write_cell_header(extend, live, CellCommand::kCreate);
  std::copy(onward->payload.begin(), onward->payload.end(), extend.begin() + kCellHeaderSize);
  const RelayCounters before = d.net.relay(1).counters();
  d.net.relay(1).handle_cell(d.net.hop(0).link_key, extend);
  d.net.run();
  const RelayCounters after = d.net.relay(1).counters();
  EXPECT_EQ(after.dropped_malformed, before.dropped_malformed + 1);
  EXPECT_EQ(after.creates_accepted, before.creates_accepted);
  EXPECT_EQ(d.net.delivered(1, 2), 0u);
  EXPECT_EQ(d.net.relay(2).circuit_count(), 0u);
  EXPECT_EQ(client->state(), Circuit::State::kOpen);

  Collect at_server;
  d.directory[0]->set_receiver(&at_server);
  ASSERT_EQ(client->send(bytes_of("GET_CONSENSUS")), SendOutcome::kSent);
  d.net.run();
  ASSERT_EQ(at_server.got.size(), 1u);
  EXPECT_EQ(d.net.delivered(1, 2), 0u);
  EXPECT_EQ(d.net.relay(1).counters().cells_relayed, after.cells_relayed);
}

// The directory service learns who asks from the circuit: its one
// neighbour, whose static key the Noise handshake authenticated (proposal
// 0002, section 4.3, "from an authority").
TEST(RelayCreateDir, EachEndNamesTheOtherAsItsLinkPeer) {
  DirectoryNet d(directory_config(), 3);
  auto from0 = open_directory_circuit(d.net, 0, 1);
  auto from2 = open_directory_circuit(d.net, 2, 1);
  ASSERT_NE(from0, nullptr);
  ASSERT_NE(from2, nullptr);
  ASSERT_EQ(d.directory.size(), 2u);
  EXPECT_EQ(d.directory[0]->link_peer(), d.net.hop(0).link_key);
  EXPECT_EQ(d.directory[1]->link_peer(), d.net.hop(2).link_key);
  EXPECT_EQ(from0->link_peer(), d.net.hop(1).link_key);
}

// A CREATE_DIR costs no onion key: it stores no tag in the replay store
// (proposal 0002, section 9), and a node without any onion key still serves
// it, as a bootstrapping client needs.
TEST(RelayCreateDir, TakesNothingFromTheOnionKeysOrTheirReplayStore) {
  DirectoryNet d;
  OnionKeyRing& ring = d.net.relay(1).onion_keys();
  ASSERT_NE(ring.current(), nullptr);
  std::vector<std::unique_ptr<Circuit>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(open_directory_circuit(d.net, 0, 1));
    ASSERT_NE(clients.back(), nullptr);
    EXPECT_EQ(clients.back()->state(), Circuit::State::kOpen);
  }
  EXPECT_EQ(ring.current()->replay->size(), 0u);
  // A CREATE through the same node does store its tag.
  auto ordinary = d.net.relay(0).create_circuit(d.net.hops({1}));
  ASSERT_TRUE(ordinary.has_value());
  d.net.run();
  ASSERT_EQ((*ordinary)->state(), Circuit::State::kOpen);
  EXPECT_EQ(ring.current()->replay->size(), 1u);

  ring.erase(ring.epoch());
  ASSERT_EQ(ring.size(), 0u);
  auto keyless = d.net.relay(0).create_circuit(d.net.hops({1}));
  ASSERT_TRUE(keyless.has_value());
  d.net.run();
  EXPECT_EQ((*keyless)->close_reason(), DestroyReason::kCreateFailed);
  auto served = open_directory_circuit(d.net, 0, 1);
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(served->state(), Circuit::State::kOpen);
  EXPECT_EQ(d.directory.size(), 4u);
}

// A CREATE_DIR that is no cell (circuit id 0, which only PADDING carries, or
// a short one) is dropped unanswered and counted malformed; one with
// non-zero padding is answered DESTROY 1. Neither takes a token from the
// group's bucket: the whole burst still opens after them.
TEST(RelayCreateDir, MalformedOnesAreCountedAndTakeNoToken) {
  RelayConfig config = directory_config();
  config.create_limits = small_limits();  // a burst of 5 per address
  DirectoryNet d(config);
  const PeerKey from = d.net.hop(0).link_key;
  const ClientCreateDir create = build_create_dir();
  Cell no_id{};
  write_cell_header(no_id, 0, CellCommand::kCreateDir);
  std::copy(create.payload.begin(), create.payload.end(), no_id.begin() + kCellHeaderSize);
  Cell bad_padding = no_id;
  bad_padding[kCellSize - 1] = 0x01;
  for (CircuitId id = 1; id <= 10; ++id) {
    d.net.relay(1).handle_cell(from, no_id);
    d.net.relay(1).handle_cell(from, Bytes(no_id).first(kCellSize - 1));
    store_be32(bad_padding.data(), id);
    d.net.relay(1).handle_cell(from, bad_padding);
  }
  RelayCounters c = d.net.relay(1).counters();
  EXPECT_EQ(c.dropped_malformed, 20u);
  EXPECT_EQ(c.create_dirs_refused, 10u);
  EXPECT_EQ(c.create_dirs_accepted + c.create_dirs_rate_limited + c.create_dirs_rejected, 0u);
  EXPECT_EQ(d.net.relay(1).circuit_count(), 0u);
  EXPECT_TRUE(d.directory.empty());

  std::vector<std::unique_ptr<Circuit>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(open_directory_circuit(d.net, 0, 1));
    ASSERT_NE(clients.back(), nullptr);
    EXPECT_EQ(clients.back()->state(), Circuit::State::kOpen) << i;
  }
  c = d.net.relay(1).counters();
  EXPECT_EQ(c.create_dirs_accepted, 5u);
  EXPECT_EQ(c.create_dirs_rate_limited, 0u);
}

using LoopbackCreateDir = testing::LoopbackTest;

// Over real Noise links: the directory end names the client by the static
// key its link handshake proved, and the CREATE_DIR crosses the link as one
// ordinary cell.
TEST_F(LoopbackCreateDir, OpensOverARealLinkAndKnowsTheLinksKey) {
  testing::LoopbackOptions options;
  options.relay_config = [](int) { return directory_config(); };
  start(2, options);
  std::vector<std::unique_ptr<Circuit>> directory;
  node(1).relay->set_directory_handler(
      [&](std::unique_ptr<Circuit> circuit) { directory.push_back(std::move(circuit)); });
  auto created = node(0).relay->create_directory_circuit(node(1).keys.descriptor.link_key);
  ASSERT_TRUE(created.has_value());
  std::unique_ptr<Circuit> client = std::move(*created);
  ASSERT_TRUE(run_until([&] { return client->state() != Circuit::State::kBuilding; }));
  ASSERT_EQ(client->state(), Circuit::State::kOpen);
  ASSERT_EQ(directory.size(), 1u);
  EXPECT_TRUE(node(1).ends.empty());
  EXPECT_EQ(node(0).tap->sent(CellCommand::kCreateDir), 1u);
  EXPECT_EQ(directory[0]->link_peer(), node(0).keys.descriptor.link_key);

  Collect at_server;
  Collect at_client;
  directory[0]->set_receiver(&at_server);
  client->set_receiver(&at_client);
  ASSERT_EQ(client->send(bytes_of("GET_CONSENSUS")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] { return at_server.got.size() == 1; }));
  ASSERT_EQ(directory[0]->send(bytes_of("consensus")), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] { return at_client.got.size() == 1; }));
  EXPECT_EQ(at_server.got[0], bytes_of("GET_CONSENSUS"));
  EXPECT_EQ(at_client.got[0], bytes_of("consensus"));
  directory[0]->set_receiver(nullptr);
  client->set_receiver(nullptr);
}

}  // namespace
}  // namespace nyx::mix
