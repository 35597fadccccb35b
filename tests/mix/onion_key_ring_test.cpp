#include "mix/onion_key_ring.hpp"

#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "mix/memory_replay_store.hpp"
#include "mix/onion_create.hpp"

namespace nyx::mix {
namespace {

// A ring holding a fresh key for each of `epochs`, with epoch(now) = `now`.
struct Ring {
  Ring(std::uint64_t now, const std::vector<std::uint64_t>& epochs) {
    ring.set_epoch(now);
    for (std::uint64_t e : epochs) {
      auto key = crypto::X25519KeyPair::generate();
      public_keys.emplace(e, key.public_key);
      ring.hold(e, std::move(key));
    }
  }
  // A one-hop CREATE for the key of `epoch`, processed by the ring.
  Result<CreateOutcome> create_for(std::uint64_t epoch) {
    OnionHop hop{public_keys.at(epoch), {}};
    auto create = build_create(std::vector{hop});
    EXPECT_TRUE(create.has_value());
    return process_create(ring, create->payload);
  }

  OnionKeyRing ring{16};
  std::map<std::uint64_t, crypto::X25519PublicKey> public_keys;
};

std::vector<std::uint64_t> epochs_of(const std::array<OnionKeyRing::Entry*, 3>& order) {
  std::vector<std::uint64_t> out;
  for (const auto* entry : order) {
    out.push_back(entry == nullptr ? 0 : entry->epoch);
  }
  return out;
}

TEST(OnionKeyRing, TriesNowThenNextThenPrevious) {
  Ring r(10, {9, 10, 11});
  EXPECT_EQ(epochs_of(r.ring.trial_order()), (std::vector<std::uint64_t>{10, 11, 9}));
  r.ring.erase(11);
  EXPECT_EQ(epochs_of(r.ring.trial_order()), (std::vector<std::uint64_t>{10, 0, 9}));
  // Epoch 0 has no predecessor (no wrap to the last epoch).
  Ring first(0, {0, 1});
  EXPECT_EQ(epochs_of(first.ring.trial_order()), (std::vector<std::uint64_t>{0, 1, 0}));
  EXPECT_EQ(first.ring.trial_order()[2], nullptr);
}

TEST(OnionKeyRing, EachHeldKeyOpensItsOwnCreatesAndOnlyThose) {
  Ring r(10, {9, 10, 11, 12});
  for (std::uint64_t e : std::vector<std::uint64_t>{9, 10, 11}) {
    auto outcome = r.create_for(e);
    ASSERT_TRUE(outcome.has_value()) << e;
    EXPECT_EQ(outcome->epoch, e);
    EXPECT_EQ(r.ring.find(e)->replay->size(), 1u);  // one store per key
  }
  // epoch(now) + 2 is never tried, even when held.
  EXPECT_EQ(r.create_for(12).error().code, static_cast<int>(CreateErrc::kBadMac));
  // Time moves on: 9 is no longer epoch(now) - 1, and 12 is next.
  r.ring.set_epoch(11);
  EXPECT_EQ(r.create_for(9).error().code, static_cast<int>(CreateErrc::kBadMac));
  EXPECT_TRUE(r.create_for(12).has_value());
}

TEST(OnionKeyRing, AClosedKeyRefusesFreshCreatesWhileOthersGoOn) {
  Ring r(10, {10, 11});
  r.ring.close(10, OnionKeyRing::CloseReason::kUntrusted);
  auto closed = r.create_for(10);
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->action, CreateAction::kRefuse);
  EXPECT_EQ(r.ring.find(10)->replay->size(), 0u);
  EXPECT_TRUE(r.create_for(11).has_value());
  // A later reason does not overwrite the first.
  r.ring.close(10, OnionKeyRing::CloseReason::kFull);
  EXPECT_EQ(r.ring.find(10)->closed, OnionKeyRing::CloseReason::kUntrusted);
}

TEST(OnionKeyRing, RotateKeepsOnlyThePreviousKeyForTheOverlap) {
  OnionKeyRing ring(16);
  ring.rotate(5, crypto::X25519KeyPair::generate());
  ring.rotate(6, crypto::X25519KeyPair::generate());
  ring.rotate(7, crypto::X25519KeyPair::generate());
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring.epoch(), 7u);
  EXPECT_NE(ring.find(6), nullptr);
  EXPECT_EQ(ring.find(5), nullptr);
}

// A directory that names the same key again (a reload, the same epoch
// installed twice) must not empty its store: every CREATE the key took could
// then be replayed.
TEST(OnionKeyRing, HoldingTheSameKeyAgainKeepsItsStore) {
  OnionKeyRing ring(16);
  const auto key = crypto::X25519KeyPair::generate();
  ring.rotate(5, crypto::X25519KeyPair::from_secret(key.secret.span()));
  const ReplayTag tag{1, 2, 3};
  ASSERT_TRUE(ring.record_tag(*ring.find(5), tag).has_value());
  ring.rotate(5, crypto::X25519KeyPair::from_secret(key.secret.span()));
  EXPECT_TRUE(ring.find(5)->replay->contains(tag));
}

// Unlisted (epoch 0), then listed again at 5: the key of 5 was erased with
// its tags, so it may open CREATEs only to refuse them until the next epoch.
TEST(OnionKeyRing, AKeyWhoseStoreWasErasedComesBackClosed) {
  OnionKeyRing ring(16);
  const auto key = crypto::X25519KeyPair::generate();
  ring.rotate(5, crypto::X25519KeyPair::from_secret(key.secret.span()));
  ring.rotate(0, crypto::X25519KeyPair::generate());
  EXPECT_EQ(ring.find(5), nullptr);
  ring.rotate(5, crypto::X25519KeyPair::from_secret(key.secret.span()));
  ASSERT_NE(ring.find(5), nullptr);
  EXPECT_EQ(ring.find(5)->closed, OnionKeyRing::CloseReason::kStoreMissing);
  EXPECT_EQ(ring.find(0), nullptr);  // out of the trial order's reach
}

TEST(OnionKeyRing, EveryKeyGetsAStoreFromTheFactory) {
  std::vector<std::uint64_t> made;
  OnionKeyRing ring([&](std::uint64_t epoch, const crypto::X25519PublicKey&) {
    made.push_back(epoch);
    return std::make_unique<MemoryReplayStore>(4);
  });
  ring.hold(3, crypto::X25519KeyPair::generate());
  ring.hold(4, crypto::X25519KeyPair::generate());
  EXPECT_EQ(made, (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(ring.find(4)->replay->capacity(), 4u);
}

}  // namespace
}  // namespace nyx::mix
