// Early rotation (proposal 0002, section 8.4): when the replay store of the
// key of epoch(now) fills, or the key cannot be trusted, the ring closes it
// and holds the next epoch's key, generated ahead, at once. The owner reads
// a ManualClock here and tells the ring the epoch, as the daemon does.
#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "mix/onion_create.hpp"
#include "mix/onion_key_ring.hpp"

namespace nyx::mix {
namespace {

constexpr Nanos kPeriod = std::chrono::seconds(24);  // test mode's P

// A relay's keys and clock: one store of `capacity` tags per key, epoch(now)
// read from the clock, keys generated ahead and handed to the ring.
struct Keys {
  explicit Keys(std::size_t capacity) : ring(capacity) {
    clock.set(7 * kPeriod + std::chrono::seconds(1));
    ring.set_epoch(epoch_now());
    ring.hold(7, copy(7));
  }
  std::uint64_t epoch_now() const { return static_cast<std::uint64_t>(clock.now() / kPeriod); }
  // The key of `epoch`, made once; each call returns a copy of the pair.
  crypto::X25519KeyPair copy(std::uint64_t epoch) {
    if (!generated.contains(epoch)) {
      generated.emplace(epoch, crypto::X25519KeyPair::generate());
    }
    return crypto::X25519KeyPair::from_secret(generated.at(epoch).secret.span());
  }
  void advance_to_epoch(std::uint64_t epoch) {
    clock.set(static_cast<std::int64_t>(epoch) * kPeriod);
    ring.set_epoch(epoch_now());
  }
  // A fresh one-hop CREATE for the key of `epoch`, and what the ring says.
  Result<CreateOutcome> create_for(std::uint64_t epoch, CreatePayload* sent = nullptr) {
    OnionHop hop{copy(epoch).public_key, {}};
    auto create = build_create(std::vector{hop});
    EXPECT_TRUE(create.has_value());
    if (sent != nullptr) {
      *sent = create->payload;
    }
    return process_create(ring, create->payload);
  }

  ManualClock clock;
  OnionKeyRing ring;
  std::map<std::uint64_t, crypto::X25519KeyPair> generated;
};

bool accepted(const Result<CreateOutcome>& outcome, std::uint64_t epoch) {
  return outcome.has_value() && outcome->action == CreateAction::kTerminal &&
         outcome->epoch == epoch;
}
bool refused(const Result<CreateOutcome>& outcome) {
  return outcome.has_value() && outcome->action == CreateAction::kRefuse;
}

TEST(OnionEarlyRotation, AFullStoreMovesFreshCreatesToTheNextKey) {
  Keys keys(2);
  keys.ring.set_upcoming(8, keys.copy(8));
  EXPECT_EQ(keys.ring.find(8), nullptr);  // generated ahead, not held yet
  CreatePayload first;
  EXPECT_TRUE(accepted(keys.create_for(7, &first), 7));
  EXPECT_EQ(keys.ring.find(8), nullptr);
  // The CREATE that fills the store goes on, and closes the key.
  EXPECT_TRUE(accepted(keys.create_for(7), 7));
  EXPECT_EQ(keys.ring.find(7)->closed, OnionKeyRing::CloseReason::kFull);
  ASSERT_NE(keys.ring.find(8), nullptr);  // held at once, still within epoch 7
  EXPECT_EQ(keys.epoch_now(), 7u);
  EXPECT_FALSE(keys.ring.find(8)->closed);
  EXPECT_EQ(keys.ring.find(8)->replay->size(), 0u);  // a fresh store
  EXPECT_EQ(keys.ring.early_rotations().full, 1u);
  EXPECT_EQ(keys.ring.early_rotations().untrusted, 0u);

  // Fresh CREATEs under the closed key are refused and store nothing; those
  // under the next key are taken.
  EXPECT_TRUE(refused(keys.create_for(7)));
  EXPECT_EQ(keys.ring.find(7)->replay->size(), 2u);
  EXPECT_TRUE(accepted(keys.create_for(8), 8));
  EXPECT_EQ(keys.ring.find(8)->replay->size(), 1u);
  // The closed key's tags still catch replays.
  CreatePayload replay = first;
  EXPECT_EQ(process_create(keys.ring, replay).error().code, static_cast<int>(CreateErrc::kReplay));
}

TEST(OnionEarlyRotation, TheEarlyKeyKeepsItsStoreWhenItsOwnTimeComes) {
  Keys keys(2);
  keys.ring.set_upcoming(8, keys.copy(8));
  keys.ring.close(7, OnionKeyRing::CloseReason::kFull);
  CreatePayload early;
  EXPECT_TRUE(accepted(keys.create_for(8, &early), 8));
  // At T_8 - S the owner holds the key of 8 as it always does, then 8 is now.
  keys.ring.hold(8, keys.copy(8));
  keys.advance_to_epoch(8);
  ASSERT_NE(keys.ring.find(8), nullptr);
  EXPECT_EQ(keys.ring.find(8)->replay->size(), 1u);
  CreatePayload replay = early;
  EXPECT_EQ(process_create(keys.ring, replay).error().code, static_cast<int>(CreateErrc::kReplay));
  // Epoch 7's closed key is in its overlap: tried last, still refusing.
  EXPECT_TRUE(refused(keys.create_for(7)));
  EXPECT_EQ(keys.ring.early_rotations().full, 1u);
}

TEST(OnionEarlyRotation, WithoutANextKeyTheClosedKeyRefuses) {
  Keys keys(1);
  EXPECT_TRUE(accepted(keys.create_for(7), 7));  // fills and closes
  EXPECT_EQ(keys.ring.find(8), nullptr);
  EXPECT_TRUE(refused(keys.create_for(7)));
  EXPECT_EQ(keys.ring.early_rotations().full, 0u);
  // A key generated later still starts the rotation: the key of epoch(now)
  // is closed.
  keys.ring.set_upcoming(8, keys.copy(8));
  ASSERT_NE(keys.ring.find(8), nullptr);
  EXPECT_TRUE(accepted(keys.create_for(8), 8));
  EXPECT_EQ(keys.ring.early_rotations().full, 1u);
}

TEST(OnionEarlyRotation, OnlyTheKeyOfEpochNowClosingRotates) {
  Keys keys(4);
  keys.ring.set_upcoming(8, keys.copy(8));
  keys.ring.hold(6, keys.copy(6));  // the previous epoch, in its overlap
  keys.ring.close(6, OnionKeyRing::CloseReason::kFull);
  EXPECT_EQ(keys.ring.find(8), nullptr);
  // A key two epochs ahead is never held early: no consensus names it yet.
  keys.ring.set_upcoming(9, keys.copy(9));
  keys.ring.close(7, OnionKeyRing::CloseReason::kFull);
  EXPECT_EQ(keys.ring.find(8), nullptr);
  EXPECT_EQ(keys.ring.find(9), nullptr);
  EXPECT_EQ(keys.ring.early_rotations().full, 0u);
}

TEST(OnionEarlyRotation, AnUntrustedOrMissingStoreRotatesToo) {
  Keys keys(4);
  keys.ring.set_upcoming(8, keys.copy(8));
  keys.ring.close(7, OnionKeyRing::CloseReason::kUntrusted);
  EXPECT_NE(keys.ring.find(8), nullptr);
  EXPECT_EQ(keys.ring.early_rotations().untrusted, 1u);

  // A key whose store this ring erased comes back closed (store missing):
  // its successor takes over at once.
  Keys again(4);
  again.ring.erase(7);
  again.ring.set_upcoming(8, again.copy(8));
  EXPECT_EQ(again.ring.find(8), nullptr);  // no key of epoch(now): nothing to rotate from
  again.ring.hold(7, again.copy(7));
  ASSERT_NE(again.ring.find(7), nullptr);
  EXPECT_EQ(again.ring.find(7)->closed, OnionKeyRing::CloseReason::kStoreMissing);
  EXPECT_NE(again.ring.find(8), nullptr);
  EXPECT_EQ(again.ring.early_rotations().untrusted, 1u);
}

// At T_{k+1} the usual rule holds again: the early key of 8 filled as well,
// so when 8 becomes epoch(now), the key of 9, now generated, is held at once.
TEST(OnionEarlyRotation, AtTheBoundaryAClosedNewKeyRotatesToItsSuccessor) {
  Keys keys(1);
  keys.ring.set_upcoming(8, keys.copy(8));
  EXPECT_TRUE(accepted(keys.create_for(7), 7));  // 7 full: 8 held early
  ASSERT_NE(keys.ring.find(8), nullptr);
  EXPECT_TRUE(accepted(keys.create_for(8), 8));  // 8 full as well
  EXPECT_EQ(keys.ring.find(8)->closed, OnionKeyRing::CloseReason::kFull);
  keys.ring.set_upcoming(9, keys.copy(9));
  EXPECT_EQ(keys.ring.find(9), nullptr);  // 9 is two epochs ahead of 7
  EXPECT_TRUE(refused(keys.create_for(8)));

  keys.clock.advance(kPeriod);
  keys.ring.set_epoch(keys.epoch_now());
  EXPECT_EQ(keys.ring.epoch(), 8u);
  ASSERT_NE(keys.ring.find(9), nullptr);
  EXPECT_TRUE(accepted(keys.create_for(9), 9));
  EXPECT_EQ(keys.ring.early_rotations().full, 2u);
}

}  // namespace
}  // namespace nyx::mix
