// REFUSED and the client's one rebuild (proposal 0002, section 8.5): a hop
// whose onion key is closed answers a fresh CREATE with an authenticated
// REFUSED; the client tears the attempt down, builds the same path once more
// with that hop's next key, and keeps nothing of the refusal.
#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/random.hpp"
#include "core/crypto/x25519.hpp"
#include "mix/circuit_crypto.hpp"
#include "mix/client_onion.hpp"
#include "mix/relay.hpp"
#include "mix/support/cell_checks.hpp"
#include "mix/support/memory_network.hpp"

namespace nyx::mix {
namespace {

using testing::MemoryNetwork;

constexpr std::uint64_t kEpoch = 7;  // the test nodes' onion key epoch

using testing::is_command;

// Node `node` hands its ring the next epoch's key, generated ahead, and its
// key of epoch(now) closes: the ring holds the next key at once (an early
// rotation, section 8.4). Returns the next key's public half.
crypto::X25519PublicKey rotate_early(MemoryNetwork& net, int node) {
  auto next = crypto::X25519KeyPair::generate();
  const crypto::X25519PublicKey next_public = next.public_key;
  OnionKeyRing& ring = net.relay(node).onion_keys();
  ring.set_upcoming(kEpoch + 1, std::move(next));
  ring.close(kEpoch, OnionKeyRing::CloseReason::kFull);
  EXPECT_NE(ring.find(kEpoch + 1), nullptr);
  return next_public;
}

// The secret node `node` derives from a CREATE it receives, which gives the
// keys it shares with the client. A test playing that node knows its onion
// secret.
using SharedSecret = std::array<std::uint8_t, crypto::kX25519KeySize>;
SharedSecret secret_at(MemoryNetwork& net, int node, Cell& create) {
  const OnionKeyRing::Entry* key = net.relay(node).onion_keys().current();
  std::array<std::uint8_t, crypto::kX25519KeySize> alpha;
  std::copy_n(cell_payload(create).begin(), alpha.size(), alpha.begin());
  SharedSecret s;
  EXPECT_TRUE(crypto::x25519(s, key->key.secret.span(), alpha).has_value());
  return s;
}
HopKeys keys_at(MemoryNetwork& net, int node, Cell& create) {
  return HopKeys::derive(secret_at(net, node, create));
}

CellPayload payload_of(Cell& cell) { return cell_payload(cell).subspan<0, kCellPayloadSize>(); }

constexpr std::array<std::uint8_t, 1> kKeyClosed{
    static_cast<std::uint8_t>(RefusedReason::kKeyClosed)};

// The 16 random bytes a hop puts into a backward cell's tweak; any will do.
constexpr std::array<std::uint8_t, kHopHeaderSize> kHopNonce{0x5a};

// A REFUSED as a hop holding `keys` originates it, in place of `cell`'s payload.
void originate_refused(const HopKeys& keys, Cell& cell) {
  originate(keys.backward, CellCommand::kCreated, 0, RelayType::kRefused, kKeyClosed, kHopNonce,
            payload_of(cell));
}

// The client's directory of next onion keys, by link key; counts lookups.
struct NextKeys {
  std::map<PeerKey, crypto::X25519PublicKey> keys;
  int lookups = 0;

  Relay::NextOnionKeyLookup lookup() {
    return [this](const OnionHop& hop) -> std::optional<crypto::X25519PublicKey> {
      ++lookups;
      auto it = keys.find(hop.link_key);
      if (it == keys.end()) {
        return std::nullopt;
      }
      return it->second;
    };
  }
};

using Collect = testing::DatagramCollector;

// Client 0 builds 1 -> 2 -> 3; the parameter is the position (entry = 0)
// of the hop that refuses.
class RelayRefused : public ::testing::TestWithParam<int> {
 protected:
  static constexpr int kExit = 3;
  int refuser() const { return 1 + GetParam(); }
  std::vector<OnionHop> hops() const { return net.hops({1, 2, 3}); }

  // Builds the circuit and checks that it failed after `refusals` REFUSEDs
  // and one lookup of the next key, leaving no circuit on any node.
  void expect_build_fails(std::uint64_t refusals) {
    auto client = net.relay(0).create_circuit(hops());
    ASSERT_TRUE(client.has_value());
    net.run();
    EXPECT_EQ((*client)->state(), Circuit::State::kClosed);
    EXPECT_EQ((*client)->close_reason(), DestroyReason::kCreateFailed);
    EXPECT_EQ(directory.lookups, 1);
    EXPECT_EQ(net.relay(refuser()).counters().creates_refused_closed, refusals);
    for (int n = 0; n < 4; ++n) {
      EXPECT_EQ(net.relay(n).circuit_count(), 0u) << n;
    }
  }

  NextKeys directory;  // first: the client's relay calls it until the network goes
  MemoryNetwork net{4};
};

TEST_P(RelayRefused, TheClientRebuildsOnceWithTheNextKeyAndTheCircuitWorks) {
  directory.keys[net.hop(refuser()).link_key] = rotate_early(net, refuser());
  net.relay(0).set_next_onion_key_lookup(directory.lookup());
  int createds_to_client = 0;
  int destroys_from_client = 0;
  net.set_filter([&](int from, int to, Cell& cell) {
    createds_to_client += to == 0 && is_command(cell, CellCommand::kCreated) ? 1 : 0;
    if (from == 0 && is_command(cell, CellCommand::kDestroy)) {
      ++destroys_from_client;  // opaque: the end moved to the retry, so no END inside
    }
    return true;
  });

  auto client = net.relay(0).create_circuit(hops());
  ASSERT_TRUE(client.has_value());
  net.run();
  ASSERT_EQ((*client)->state(), Circuit::State::kOpen);
  EXPECT_EQ(directory.lookups, 1);
  EXPECT_EQ(createds_to_client, 2);    // REFUSED inside a CREATED, then the exit's CREATED
  EXPECT_EQ(destroys_from_client, 1);  // DESTROY 0: the refused attempt, torn down
  EXPECT_EQ(net.relay(refuser()).counters().creates_refused_closed, 1u);
  EXPECT_EQ(net.relay(refuser()).counters().creates_accepted, 1u);
  EXPECT_EQ(net.relay(refuser()).counters().early_rotations_full, 1u);
  // The retry opened under the next key; the closed key stored nothing.
  EXPECT_EQ(net.relay(refuser()).onion_keys().find(kEpoch)->replay->size(), 0u);
  ASSERT_NE(net.relay(refuser()).onion_keys().find(kEpoch + 1), nullptr);
  EXPECT_EQ(net.relay(refuser()).onion_keys().find(kEpoch + 1)->replay->size(), 1u);
  // The refusing hop kept nothing: the client's DESTROY found no circuit.
  EXPECT_EQ(net.relay(refuser()).counters().dropped_unknown_circuit, 1u);
  for (int n = 0; n < 4; ++n) {
    EXPECT_EQ(net.relay(n).circuit_count(), 1u) << n;  // the first attempt is gone
  }

  ASSERT_EQ(net.terminals(kExit).size(), 1u);
  Collect at_exit;
  net.terminals(kExit)[0]->set_receiver(&at_exit);
  const std::vector<std::uint8_t> hello = {'h', 'i'};
  ASSERT_EQ((*client)->send(hello), SendOutcome::kSent);
  net.run();
  ASSERT_EQ(at_exit.got.size(), 1u);
  EXPECT_EQ(at_exit.got[0], hello);
}

TEST_P(RelayRefused, ASecondRefusalFailsTheCircuitWithoutLooping) {
  directory.keys[net.hop(refuser()).link_key] = rotate_early(net, refuser());
  net.relay(refuser()).onion_keys().close(kEpoch + 1, OnionKeyRing::CloseReason::kFull);
  net.relay(0).set_next_onion_key_lookup(directory.lookup());
  expect_build_fails(2);
  EXPECT_TRUE(net.terminals(kExit).empty());
}

TEST_P(RelayRefused, WithoutANextKeyARefusedCircuitFails) {
  rotate_early(net, refuser());
  net.relay(0).set_next_onion_key_lookup(directory.lookup());  // knows no key
  expect_build_fails(1);
}

TEST_P(RelayRefused, TheClientKeepsNothingOfARefusal) {
  directory.keys[net.hop(refuser()).link_key] = rotate_early(net, refuser());
  net.relay(0).set_next_onion_key_lookup(directory.lookup());
  auto first = net.relay(0).create_circuit(hops());
  ASSERT_TRUE(first.has_value());
  net.run();
  ASSERT_EQ((*first)->state(), Circuit::State::kOpen);
  // The next circuit through the same hop starts again with the key of
  // epoch(now): the hop cannot tell this client by the key it uses.
  auto second = net.relay(0).create_circuit(hops());
  ASSERT_TRUE(second.has_value());
  net.run();
  ASSERT_EQ((*second)->state(), Circuit::State::kOpen);
  EXPECT_EQ(net.relay(refuser()).counters().creates_refused_closed, 2u);
  EXPECT_EQ(directory.lookups, 2);
  EXPECT_EQ(net.relay(0).circuit_count(), 2u);  // the two open circuits, nothing else
}

INSTANTIATE_TEST_SUITE_P(Positions, RelayRefused, ::testing::Values(0, 1, 2),
                         [](const ::testing::TestParamInfo<int>& position) {
                           return "Hop" + std::to_string(position.param);
                         });

TEST(RelayRefusedForged, ARefusalUnderAKeyNoHopHoldsIsTamperingNotARefusal) {
  NextKeys directory;
  MemoryNetwork net(4);
  net.relay(0).set_next_onion_key_lookup(directory.lookup());
  // The entry swaps the exit's CREATED for a REFUSED under a key of its own
  // making, hoping the client would rebuild and so reveal itself.
  std::array<std::uint8_t, 32> secret;
  crypto::random_bytes(secret);
  const HopKeys forger = HopKeys::derive(secret);
  net.set_filter([&](int from, int to, Cell& cell) {
    if (from == 1 && to == 0 && is_command(cell, CellCommand::kCreated)) {
      originate_refused(forger, cell);
    }
    return true;
  });
  auto client = net.relay(0).create_circuit(net.hops({1, 2, 3}));
  ASSERT_TRUE(client.has_value());
  net.run();
  EXPECT_EQ((*client)->state(), Circuit::State::kClosed);
  EXPECT_EQ((*client)->close_reason(), DestroyReason::kTampered);
  EXPECT_EQ(net.relay(0).counters().tampered, 1u);
  EXPECT_EQ(directory.lookups, 0);  // no rebuild was even considered
  for (int n = 0; n < 4; ++n) {
    EXPECT_EQ(net.relay(n).circuit_count(), 0u) << n;
  }
}

// The middle hop (node 2) knows its own keys, not the exit's. It swaps the
// exit's CREATED for a REFUSED under its own keys, with its own step on top
// as if the exit had originated it: the client must not take it for the exit's, nor
// rebuild through the exit with another key.
TEST(RelayRefusedForged, AMiddleHopCannotRefuseForALaterHop) {
  NextKeys directory;
  MemoryNetwork net(4);
  // A next key for the exit, to lure the client into a rebuild.
  directory.keys[net.hop(3).link_key] = crypto::X25519KeyPair::generate().public_key;
  net.relay(0).set_next_onion_key_lookup(directory.lookup());
  std::optional<HopKeys> middle;
  int destroys_from_client = 0;
  net.set_filter([&](int from, int to, Cell& cell) {
    if (from == 1 && to == 2 && is_command(cell, CellCommand::kCreate)) {
      middle = keys_at(net, 2, cell);
    }
    if (from == 2 && to == 1 && is_command(cell, CellCommand::kCreated)) {
      originate_refused(*middle, cell);
      relay_backward(middle->backward, CellCommand::kCreated, kHopNonce, payload_of(cell));
    }
    if (from == 0 && is_command(cell, CellCommand::kDestroy)) {
      ++destroys_from_client;  // its END (tampered) is for the hops' ends, not readable here
    }
    return true;
  });
  auto client = net.relay(0).create_circuit(net.hops({1, 2, 3}));
  ASSERT_TRUE(client.has_value());
  net.run();
  ASSERT_TRUE(middle.has_value());
  EXPECT_EQ((*client)->state(), Circuit::State::kClosed);
  EXPECT_EQ((*client)->close_reason(), DestroyReason::kTampered);
  EXPECT_EQ(destroys_from_client, 1);
  EXPECT_EQ(directory.lookups, 0);
  for (int n = 0; n < 4; ++n) {
    EXPECT_EQ(net.relay(n).circuit_count(), 0u) << n;
  }
}

// What a hop can do is refuse as itself: the same REFUSED without its own
// step on top is hop 1's REFUSED, and the client asks for hop 1's next key,
// never the exit's.
TEST(RelayRefusedForged, AHopsRefusalIsAlwaysItsOwn) {
  MemoryNetwork net(4);
  std::vector<PeerKey> looked_up;
  net.relay(0).set_next_onion_key_lookup(
      [&](const OnionHop& hop) -> std::optional<crypto::X25519PublicKey> {
        looked_up.push_back(hop.link_key);
        return std::nullopt;
      });
  std::optional<HopKeys> middle;
  net.set_filter([&](int from, int to, Cell& cell) {
    if (from == 1 && to == 2 && is_command(cell, CellCommand::kCreate)) {
      middle = keys_at(net, 2, cell);
    }
    if (from == 2 && to == 1 && is_command(cell, CellCommand::kCreated)) {
      originate_refused(*middle, cell);
    }
    return true;
  });
  auto client = net.relay(0).create_circuit(net.hops({1, 2, 3}));
  ASSERT_TRUE(client.has_value());
  net.run();
  EXPECT_EQ((*client)->close_reason(), DestroyReason::kCreateFailed);
  ASSERT_EQ(looked_up.size(), 1u);
  EXPECT_EQ(looked_up[0], net.hop(2).link_key);
}

// REFUSED is valid only inside a CREATED. The exit, knowing its keys,
// originates one in a RELAY cell on an open circuit: the client destroys with DESTROY
// 1. A client doing the same towards the exit meets DESTROY 1 there.
TEST(RelayRefusedOutsideCreated, TheClientAnswersDestroy1) {
  MemoryNetwork net(4);
  std::optional<HopKeys> exit_keys;
  bool forge = false;
  std::vector<std::uint8_t> destroys_from_client;
  net.set_filter([&](int from, int to, Cell& cell) {
    if (from == 2 && to == 3 && is_command(cell, CellCommand::kCreate)) {
      exit_keys = keys_at(net, 3, cell);
    }
    if (forge && from == 3 && is_command(cell, CellCommand::kRelay)) {
      // The exit's backward cell 1 (0 was its CREATED), a REFUSED inside.
      originate(exit_keys->backward, CellCommand::kRelay, 1, RelayType::kRefused, kKeyClosed,
                kHopNonce, payload_of(cell));
    }
    if (from == 0 && is_command(cell, CellCommand::kDestroy)) {
      // What hop 1 can see of the reason: nothing but its own layer opens.
      destroys_from_client.push_back(cell[kCellHeaderSize]);
    }
    return true;
  });
  auto client = net.relay(0).create_circuit(net.hops({1, 2, 3}));
  ASSERT_TRUE(client.has_value());
  net.run();
  ASSERT_EQ((*client)->state(), Circuit::State::kOpen);
  ASSERT_EQ(net.terminals(3).size(), 1u);
  forge = true;
  const std::vector<std::uint8_t> hello = {'h', 'i'};
  ASSERT_EQ(net.terminals(3)[0]->send(hello), SendOutcome::kSent);
  net.run();
  EXPECT_EQ((*client)->state(), Circuit::State::kClosed);
  EXPECT_EQ((*client)->close_reason(), DestroyReason::kProtocol);
  // One DESTROY, whose END (protocol, 1) the exit reads; on the wire it is opaque.
  ASSERT_EQ(destroys_from_client.size(), 1u);
  ASSERT_EQ(net.terminals(3).size(), 1u);
  EXPECT_EQ(net.terminals(3)[0]->close_reason(), DestroyReason::kProtocol);
  for (int n = 0; n < 4; ++n) {
    EXPECT_EQ(net.relay(n).circuit_count(), 0u) << n;
  }
}

TEST(RelayRefusedOutsideCreated, TheExitAnswersDestroy1) {
  MemoryNetwork net(4);
  std::map<int, SharedSecret> secrets;  // what each hop shares with the client
  bool forge = false;
  std::vector<std::uint8_t> destroys_from_exit;
  net.set_filter([&](int from, int to, Cell& cell) {
    if (is_command(cell, CellCommand::kCreate)) {
      secrets.insert_or_assign(to, secret_at(net, to, cell));
    }
    if (forge && from == 0 && is_command(cell, CellCommand::kRelay)) {
      // A hostile client: it holds every hop's keys, as any client does. Its
      // slot schedules are its own, but this is the first RELAY cell each
      // hop's window sees, so any (epoch, slot) is new there.
      std::vector<HopKeys> hops;
      for (int node = 1; node <= 3; ++node) {
        hops.push_back(HopKeys::derive(secrets.at(node)));
      }
      ClientOnion onion(std::move(hops));
      onion.seal(RelayType::kRefused, kKeyClosed, payload_of(cell));
    }
    if (from == 3 && is_command(cell, CellCommand::kDestroy)) {
      destroys_from_exit.push_back(cell[kCellHeaderSize]);
    }
    return true;
  });
  auto client = net.relay(0).create_circuit(net.hops({1, 2, 3}));
  ASSERT_TRUE(client.has_value());
  net.run();
  ASSERT_EQ((*client)->state(), Circuit::State::kOpen);
  forge = true;
  const std::vector<std::uint8_t> hello = {'h', 'i'};
  ASSERT_EQ((*client)->send(hello), SendOutcome::kSent);
  net.run();
  // One DESTROY, whose END (protocol, 1) the client reads through every layer.
  EXPECT_EQ(destroys_from_exit.size(), 1u);
  EXPECT_EQ((*client)->state(), Circuit::State::kClosed);
  EXPECT_EQ((*client)->close_reason(), DestroyReason::kProtocol);
  EXPECT_EQ(net.relay(3).circuit_count(), 0u);
}

// Without a next key generated ahead, a closed key of epoch(now) still
// answers REFUSED (counted refused_closed) and stores nothing; no early
// rotation happens, and the client's circuit fails.
TEST(RelayEarlyRotation, WithoutANextKeyTheClosedKeyRefuses) {
  NextKeys directory;
  MemoryNetwork net(4);
  net.relay(0).set_next_onion_key_lookup(directory.lookup());
  OnionKeyRing& ring = net.relay(2).onion_keys();
  ring.close(kEpoch, OnionKeyRing::CloseReason::kFull);
  EXPECT_EQ(ring.find(kEpoch + 1), nullptr);
  auto client = net.relay(0).create_circuit(net.hops({1, 2, 3}));
  ASSERT_TRUE(client.has_value());
  net.run();
  EXPECT_EQ((*client)->close_reason(), DestroyReason::kCreateFailed);
  EXPECT_EQ(net.relay(2).counters().creates_refused_closed, 1u);
  EXPECT_EQ(net.relay(2).counters().creates_accepted, 0u);
  EXPECT_EQ(net.relay(2).counters().early_rotations_full, 0u);
  EXPECT_EQ(ring.find(kEpoch)->replay->size(), 0u);
  EXPECT_EQ(directory.lookups, 1);
  EXPECT_EQ(net.relay(3).counters().creates_accepted, 0u);  // nothing went downstream
}

}  // namespace
}  // namespace nyx::mix
