// Circuits over real links: in-process nodes, each a Relay on its own
// transport LinkManager (Noise over UDP on 127.0.0.1), one io_context.
#include <memory>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "mix/support/loopback_network.hpp"

namespace nyx::mix {
namespace {

using Loopback = testing::LoopbackTest;
using testing::Collect;
using testing::LoopbackNode;

TEST_F(Loopback, ThreeAndFiveHopCircuitsCarryDataByteExactBothWays) {
  start(6);
  for (const std::vector<int>& path :
       {std::vector<int>{1, 2, 3}, std::vector<int>{1, 2, 3, 4, 5}}) {
    auto client = build(path);
    ASSERT_EQ(client->state(), Circuit::State::kOpen);
    LoopbackNode& last = *nodes[static_cast<std::size_t>(path.back())];
    ASSERT_FALSE(last.ends.empty());
    Circuit& exit = *last.ends.back();
    Collect at_exit;
    Collect at_client;
    exit.set_receiver(&at_exit);
    client->set_receiver(&at_client);
    std::vector<std::vector<std::uint8_t>> sent;
    for (int i = 0; i < 20; ++i) {
      std::vector<std::uint8_t> d(static_cast<std::size_t>(i * 49) % (kMaxRelayData + 1));
      for (std::size_t k = 0; k < d.size(); ++k) {
        d[k] = static_cast<std::uint8_t>(k + static_cast<std::size_t>(i));
      }
      ASSERT_EQ(client->send(d), SendOutcome::kSent);
      ASSERT_EQ(exit.send(d), SendOutcome::kSent);
      sent.push_back(d);
    }
    ASSERT_TRUE(run_until([&] { return at_exit.got.size() == 20 && at_client.got.size() == 20; }))
        << at_exit.got.size() << " / " << at_client.got.size();
    // One link, one UDP path, no loss on loopback at this rate: in order.
    EXPECT_EQ(at_exit.got, sent);
    EXPECT_EQ(at_client.got, sent);
    exit.set_receiver(nullptr);
  }
}

TEST_F(Loopback, DestroyPropagatesOverLinks) {
  start(4);
  auto client = build({1, 2, 3});
  ASSERT_EQ(client->state(), Circuit::State::kOpen);
  ASSERT_EQ(nodes[3]->ends.size(), 1u);
  client->close();
  EXPECT_TRUE(run_until([&] { return nodes[3]->ends[0]->state() == Circuit::State::kClosed; }));
  EXPECT_EQ(nodes[1]->relay->circuit_count(), 0u);
  EXPECT_EQ(nodes[2]->relay->circuit_count(), 0u);
}

TEST_F(Loopback, WrongOnionKeyFailsSetup) {
  start(4);
  std::vector<OnionHop> hops = {nodes[1]->hop(), nodes[2]->hop(), nodes[3]->hop()};
  hops[2].onion_key = nodes[1]->hop().onion_key;
  auto circuit = nodes[0]->relay->create_circuit(hops);
  ASSERT_TRUE(circuit.has_value());
  Circuit* c = circuit->get();
  ASSERT_TRUE(run_until([&] { return c->state() == Circuit::State::kClosed; }));
  EXPECT_EQ(c->close_reason(), DestroyReason::kCreateFailed);
  EXPECT_EQ(nodes[3]->relay->counters().creates_rejected, 1u);
}

// Proposal 0002, section 8.5, over real links: a middle hop whose key is
// closed answers REFUSED, and the client follows it to its next key.
TEST_F(Loopback, ARefusingHopIsFollowedToItsNextKey) {
  start(4);
  auto next = crypto::X25519KeyPair::generate();
  const crypto::X25519PublicKey next_public = next.public_key;
  OnionKeyRing& ring = nodes[2]->relay->onion_keys();
  const std::uint64_t epoch = ring.epoch();
  ring.close(epoch, OnionKeyRing::CloseReason::kUntrusted);
  ring.hold(epoch + 1, std::move(next));
  nodes[0]->relay->set_next_onion_key_lookup(
      [next_public, refuser = nodes[2]->hop().link_key](
          const OnionHop& hop) -> std::optional<crypto::X25519PublicKey> {
        if (hop.link_key == refuser) {
          return next_public;
        }
        return std::nullopt;
      });
  auto client = build({1, 2, 3});
  ASSERT_EQ(client->state(), Circuit::State::kOpen);
  EXPECT_EQ(nodes[2]->relay->counters().creates_refused_closed, 1u);
  EXPECT_EQ(nodes[2]->relay->counters().creates_accepted, 1u);
  EXPECT_EQ(nodes[1]->tap->sent(CellCommand::kCreate), 2u);  // the entry forwarded both attempts
  ASSERT_EQ(nodes[3]->ends.size(), 1u);
  Collect at_exit;
  nodes[3]->ends[0]->set_receiver(&at_exit);
  const std::vector<std::uint8_t> hello = {'h', 'i'};
  ASSERT_EQ(client->send(hello), SendOutcome::kSent);
  ASSERT_TRUE(run_until([&] { return at_exit.got.size() == 1; }));
  EXPECT_EQ(at_exit.got[0], hello);
  // The refused attempt is gone from the entry; only the open circuit stays.
  EXPECT_TRUE(run_until([&] { return nodes[1]->relay->circuit_count() == 1; }));
  nodes[3]->ends[0]->set_receiver(nullptr);
}

}  // namespace
}  // namespace nyx::mix
