#include "mix/onion_create.hpp"

#include <array>
#include <vector>

#include <gtest/gtest.h>

#include "mix/circuit_crypto.hpp"
#include "mix/client_onion.hpp"
#include "mix/support/test_nodes.hpp"

namespace nyx::mix {
namespace {

using testing::make_test_node;
using testing::TestNode;

struct Path {
  std::vector<TestNode> nodes;
  std::vector<OnionKeyRing> rings;
  std::vector<OnionHop> hops;

  explicit Path(int n) {
    for (int i = 0; i < n; ++i) {
      nodes.push_back(make_test_node(i));
      rings.emplace_back(1024);
      rings.back().rotate(7, crypto::X25519KeyPair::from_secret(nodes.back().onion.secret.span()));
      hops.push_back({nodes.back().descriptor.onion_key, nodes.back().descriptor.link_key});
    }
  }
};

// Runs a CREATE through every hop; returns each hop's keys.
std::vector<HopKeys> run_create(Path& path, CreatePayload payload) {
  std::vector<HopKeys> keys;
  for (std::size_t i = 0; i < path.hops.size(); ++i) {
    CreatePayload before = payload;
    auto outcome = process_create(path.rings[i], payload);
    EXPECT_TRUE(outcome.has_value()) << "hop " << i << ": " << outcome.error().to_string();
    if (!outcome) {
      return {};
    }
    bool last = i + 1 == path.hops.size();
    EXPECT_EQ(outcome->action, last ? CreateAction::kTerminal : CreateAction::kForward);
    EXPECT_EQ(outcome->epoch, 7u);
    if (!last) {
      EXPECT_EQ(outcome->next_link_key, path.hops[i + 1].link_key);
      // Nothing of the header survives the hop unchanged in place.
      int same = 0;
      for (std::size_t k = 0; k < payload.size(); ++k) {
        same += payload[k] == before[k] ? 1 : 0;
      }
      EXPECT_LT(same, 20) << "hop " << i;
    }
    keys.push_back(std::move(outcome->keys));
  }
  return keys;
}

// A message sealed by the client opens at the last hop after every middle
// hop's step, and the other way round: the keys agree.
void expect_keys_agree(ClientOnion client, std::vector<HopKeys> relays) {
  const std::vector<std::uint8_t> message = {'h', 'e', 'l', 'l', 'o'};
  Cell cell{};
  CellPayload payload = cell_payload(cell).subspan<0, kCellPayloadSize>();
  client.seal(RelayType::kData, message, payload);
  for (std::size_t i = 0; i + 1 < relays.size(); ++i) {
    SlotWindow window;
    ASSERT_EQ(relay_forward(relays[i].forward, CellCommand::kRelay, window, payload),
              CellVerdict::kOk)
        << "hop " << i;
  }
  TerminalCrypto exit(std::move(relays.back()));
  RelayMessage at_exit;
  ASSERT_EQ(exit.open(CellCommand::kRelay, payload, at_exit), CellVerdict::kOk);
  EXPECT_EQ(at_exit.type, RelayType::kData);
  EXPECT_EQ(std::vector<std::uint8_t>(at_exit.data.begin(), at_exit.data.end()), message);

  exit.seal(CellCommand::kRelay, RelayType::kData, message, payload);
  for (std::size_t i = relays.size() - 1; i-- > 0;) {
    const std::array<std::uint8_t, kHopHeaderSize> r{static_cast<std::uint8_t>(i)};
    relay_backward(relays[i].backward, CellCommand::kRelay, r, payload);
  }
  RelayMessage at_client;
  ASSERT_EQ(client.open(payload, at_client), CellVerdict::kOk);
  EXPECT_EQ(std::vector<std::uint8_t>(at_client.data.begin(), at_client.data.end()), message);
}

class OnionCreatePaths : public ::testing::TestWithParam<int> {};

TEST_P(OnionCreatePaths, EveryHopDerivesTheClientsKeys) {
  Path path(GetParam());
  auto create = build_create(path.hops);
  ASSERT_TRUE(create.has_value());
  auto relay_keys = run_create(path, create->payload);
  ASSERT_EQ(relay_keys.size(), path.hops.size());
  expect_keys_agree(ClientOnion(std::move(create->keys)), std::move(relay_keys));
}

INSTANTIATE_TEST_SUITE_P(Hops, OnionCreatePaths, ::testing::Values(1, 2, 3, 5, 7));

TEST(OnionCreate, ReplayedCreateIsRejected) {
  Path path(3);
  auto create = build_create(path.hops);
  ASSERT_TRUE(create.has_value());
  CreatePayload first = create->payload;
  ASSERT_TRUE(process_create(path.rings[0], first).has_value());
  CreatePayload again = create->payload;
  auto replay = process_create(path.rings[0], again);
  ASSERT_FALSE(replay.has_value());
  EXPECT_EQ(replay.error().code, static_cast<int>(CreateErrc::kReplay));
  EXPECT_EQ(replay.error().category, ErrorCategory::kPermission);
}

TEST(OnionCreate, WrongOnionKeyFailsSetup) {
  Path path(3);
  path.hops[1].onion_key = make_test_node(99).descriptor.onion_key;
  auto create = build_create(path.hops);
  ASSERT_TRUE(create.has_value());
  CreatePayload payload = create->payload;
  ASSERT_TRUE(process_create(path.rings[0], payload).has_value());
  auto second = process_create(path.rings[1], payload);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, static_cast<int>(CreateErrc::kBadMac));
}

TEST(OnionCreate, TamperedHeaderFailsTheMac) {
  Path path(3);
  auto create = build_create(path.hops);
  ASSERT_TRUE(create.has_value());
  CreatePayload payload = create->payload;
  payload[kAlphaSize + kGammaSize + 100] ^= 1;
  EXPECT_EQ(process_create(path.rings[0], payload).error().code,
            static_cast<int>(CreateErrc::kBadMac));
}

TEST(OnionCreate, LowOrderAlphaIsRefused) {
  Path path(2);
  CreatePayload payload{};  // alpha = 0, a low-order point
  EXPECT_EQ(process_create(path.rings[0], payload).error().code,
            static_cast<int>(CreateErrc::kLowOrder));
}

TEST(OnionCreate, PreviousKeyWorksDuringOverlapOnly) {
  Path path(2);
  auto create = build_create(path.hops);  // made for epoch 7's keys
  ASSERT_TRUE(create.has_value());
  path.rings[0].rotate(8, crypto::X25519KeyPair::generate());
  CreatePayload payload = create->payload;
  auto outcome = process_create(path.rings[0], payload);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->epoch, 7u);

  auto later = build_create(path.hops);
  ASSERT_TRUE(later.has_value());
  path.rings[0].erase(7);  // the overlap is over
  payload = later->payload;
  EXPECT_EQ(process_create(path.rings[0], payload).error().code,
            static_cast<int>(CreateErrc::kBadMac));
}

TEST(OnionCreate, AFullStoreClosesItsKeyWhichStillCatchesReplays) {
  Path path(1);
  OnionKeyRing small(2);
  small.rotate(7, crypto::X25519KeyPair::from_secret(path.nodes[0].onion.secret.span()));
  auto first = build_create(path.hops);
  CreatePayload payload = first->payload;
  EXPECT_TRUE(process_create(small, payload).has_value());
  auto second = build_create(path.hops);
  // The CREATE that fills the store still goes on (section 7.3, step 5).
  EXPECT_TRUE(process_create(small, second->payload).has_value());
  EXPECT_EQ(small.current()->closed, OnionKeyRing::CloseReason::kFull);

  auto fresh = build_create(path.hops);
  auto refused = process_create(small, fresh->payload);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->action, CreateAction::kRefuse);
  EXPECT_EQ(small.current()->replay->size(), 2u);  // a refused CREATE stores nothing
  payload = first->payload;
  EXPECT_EQ(process_create(small, payload).error().code, static_cast<int>(CreateErrc::kReplay));
}

TEST(OnionCreate, HopCountIsBounded) {
  std::vector<OnionHop> none;
  EXPECT_FALSE(build_create(none).has_value());
  Path path(8);
  EXPECT_FALSE(build_create(path.hops).has_value());
}

}  // namespace
}  // namespace nyx::mix
