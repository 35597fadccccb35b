#include "daemon/onion_key_manager.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/crypto/key_file.hpp"
#include "mix/memory_replay_store.hpp"
#include "mix/onion_create.hpp"
#include "support/file_mode.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

// The default network: P = 1 h, S = 300 s, so u = 300 s and O = 310 s.
constexpr std::uint64_t kP = 3600;
constexpr std::uint64_t kS = 300;
constexpr std::uint64_t kU = kP / 12;
constexpr std::uint64_t kO = kS + document::kCircuitSetupSeconds;
constexpr std::uint64_t kE = 482146;  // the epoch the tests start in

constexpr std::uint64_t start_of(std::uint64_t epoch) { return epoch * kP; }
Nanos at(std::uint64_t unix_seconds) { return std::chrono::seconds(unix_seconds); }

using nyx::test::mode_of;

std::vector<std::uint8_t> contents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& path, std::size_t size, mode_t mode = 0600) {
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(size, '\x5a');
  }
  ::chmod(path.c_str(), mode);
}

class OnionKeyManagerTest : public ::testing::Test {
 protected:
  OnionKeyManagerTest() : clock_(at(start_of(kE) + 600)) {}

  std::filesystem::path data() const { return tmp_.path() / "data"; }
  std::filesystem::path key_file(std::uint64_t epoch) const {
    return data() / fmt::format("onion-{}.key", epoch);
  }

  // A manager on the data directory as of the clock, with its own ring.
  Result<OnionKeyManager> open() {
    ring_ = std::make_unique<mix::OnionKeyRing>();
    auto dir = DataDir::open(data());
    EXPECT_TRUE(dir.has_value());
    auto period = document::Period::from_seconds(kP);
    EXPECT_TRUE(period.has_value());
    auto factory = [this](std::uint64_t epoch, const crypto::X25519PublicKey&) {
      stores_made_.push_back(epoch);
      return std::make_unique<mix::MemoryReplayStore>(replay_capacity_);
    };
    return OnionKeyManager::open(std::move(*dir), {*period, kS}, *ring_, factory, clock_.now());
  }

  // What the daemon's timer does: on_time() at every deadline it is given,
  // up to `until`; checks on the way that no more than two keys are held
  // and no more than four files are on disk (section 7.1).
  void run_until(OnionKeyManager& manager, std::uint64_t until) {
    Nanos next = manager.on_time(clock_.now());
    while (next <= at(until)) {
      ASSERT_GT(next, clock_.now());
      clock_.set(next);
      next = manager.on_time(clock_.now());
      EXPECT_LE(ring_->size(), 2U);
      EXPECT_LE(key_files(), 4U);
    }
    clock_.set(at(until));
    manager.on_time(clock_.now());
  }

  std::size_t key_files() const {
    return static_cast<std::size_t>(
        std::count_if(std::filesystem::directory_iterator(data()),
                      std::filesystem::directory_iterator(), [](const auto& entry) {
                        return entry.path().extension() == ".key" &&
                               entry.path().filename().string().starts_with("onion-");
                      }));
  }

  // A one-hop CREATE for this relay under `onion_key`, processed by the ring.
  Result<mix::CreateOutcome> create_under(const crypto::X25519PublicKey& onion_key) {
    const mix::OnionHop hop{onion_key, crypto::X25519KeyPair::generate().public_key};
    auto create = mix::build_create(std::span(&hop, 1));
    EXPECT_TRUE(create.has_value());
    return mix::process_create(*ring_, create->payload);
  }

  test::TempDir tmp_;
  ManualClock clock_;
  std::unique_ptr<mix::OnionKeyRing> ring_;
  std::vector<std::uint64_t> stores_made_;
  std::size_t replay_capacity_ = 1000;  // tags each replay store takes
};

TEST_F(OnionKeyManagerTest, GeneratesTheNextKeysAheadAsFiles0600AndPublishesThem) {
  auto manager = open();
  ASSERT_TRUE(manager.has_value()) << manager.error().to_string();
  const Nanos next = manager->on_time(clock_.now());

  // Ten minutes into epoch E the descriptor is for E+1: keys E+1 and E+2.
  const auto published = manager->published();
  ASSERT_TRUE(published.has_value());
  EXPECT_EQ(published->epoch, kE + 1);
  EXPECT_EQ(key_files(), 2U);
  for (std::uint64_t epoch : {kE + 1, kE + 2}) {
    EXPECT_EQ(mode_of(key_file(epoch)), 0600U) << epoch;
    auto secret = crypto::read_secret_key_file<32>(key_file(epoch));
    ASSERT_TRUE(secret.has_value());
    const auto from_file = crypto::X25519KeyPair::from_secret(secret->span()).public_key;
    EXPECT_EQ(from_file, epoch == kE + 1 ? published->onion_key : published->next_onion_key);
  }
  EXPECT_NE(published->onion_key, published->next_onion_key);
  // Generated is not held: nobody may use them before T_{E+1} - S.
  EXPECT_TRUE(manager->ring_epochs().empty());
  EXPECT_EQ(ring_->size(), 0U);

  // The next thing due is the upload for E+2, at T_{E+1} - 5u: key E+3.
  EXPECT_EQ(next, at(start_of(kE + 1) - 5 * kU));
  clock_.set(next);
  manager->on_time(clock_.now());
  const auto later = manager->published();
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->epoch, kE + 2);
  EXPECT_EQ(later->onion_key, published->next_onion_key);
  EXPECT_EQ(mode_of(key_file(kE + 3)), 0600U);
  EXPECT_EQ(key_files(), 3U);
}

TEST_F(OnionKeyManagerTest, HoldsTheNextKeyFromTMinusSAndSwitchesAtTheBoundary) {
  auto manager = open();
  ASSERT_TRUE(manager.has_value());
  manager->on_time(clock_.now());
  const auto key = manager->published()->onion_key;  // of E+1

  run_until(*manager, start_of(kE + 1) - kS - 1);
  EXPECT_TRUE(manager->ring_epochs().empty());
  EXPECT_FALSE(create_under(key).has_value());  // not yet tried by CREATE
  EXPECT_EQ(manager->on_time(clock_.now()), at(start_of(kE + 1) - kS));

  run_until(*manager, start_of(kE + 1) - kS);
  EXPECT_EQ(manager->ring_epochs(), std::vector<std::uint64_t>{kE + 1});
  EXPECT_EQ(ring_->epoch(), kE);
  auto ahead = create_under(key);
  ASSERT_TRUE(ahead.has_value()) << ahead.error().to_string();
  EXPECT_EQ(ahead->epoch, kE + 1);
  EXPECT_EQ(stores_made_, std::vector<std::uint64_t>{kE + 1});  // its store, made now

  run_until(*manager, start_of(kE + 1));
  EXPECT_EQ(ring_->epoch(), kE + 1);
  ASSERT_NE(ring_->current(), nullptr);
  EXPECT_EQ(ring_->current()->key.public_key, key);
}

TEST_F(OnionKeyManagerTest, TheOverlapOpensCreatesThenTheKeyIsErasedEverywhere) {
  auto manager = open();
  ASSERT_TRUE(manager.has_value());
  manager->on_time(clock_.now());
  const auto old_key = manager->published()->onion_key;  // of E+1
  run_until(*manager, start_of(kE + 2) + 5);

  // A second name for the key file's inode shows what erasure leaves in it.
  const auto witness = tmp_.path() / "witness";
  std::filesystem::create_hard_link(key_file(kE + 1), witness);
  ASSERT_EQ(contents(witness).size(), 32U);
  ASSERT_NE(contents(witness), std::vector<std::uint8_t>(32, 0));
  write_file(data() / fmt::format("replay-{}.tags", kE + 1), 64);

  // In the overlap: epoch E+2 is current, E+1's key still opens CREATEs.
  EXPECT_EQ(manager->ring_epochs(), (std::vector<std::uint64_t>{kE + 1, kE + 2}));
  auto overlap = create_under(old_key);
  ASSERT_TRUE(overlap.has_value()) << overlap.error().to_string();
  EXPECT_EQ(overlap->epoch, kE + 1);

  run_until(*manager, start_of(kE + 2) + kO - 1);
  EXPECT_TRUE(create_under(old_key).has_value());
  EXPECT_TRUE(std::filesystem::exists(key_file(kE + 1)));

  run_until(*manager, start_of(kE + 2) + kO);
  EXPECT_EQ(manager->ring_epochs(), std::vector<std::uint64_t>{kE + 2});
  EXPECT_EQ(ring_->size(), 1U);
  EXPECT_EQ(ring_->find(kE + 1), nullptr);
  auto after = create_under(old_key);
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, static_cast<int>(mix::CreateErrc::kBadMac));
  EXPECT_FALSE(std::filesystem::exists(key_file(kE + 1)));
  EXPECT_FALSE(std::filesystem::exists(data() / fmt::format("replay-{}.tags", kE + 1)));
  EXPECT_EQ(contents(witness), std::vector<std::uint8_t>(32, 0));  // overwritten, then unlinked
}

TEST_F(OnionKeyManagerTest, AKeyThatCannotBeErasedLeavesTheRingAndIsRetriedEachSecond) {
  auto manager = open();
  ASSERT_TRUE(manager.has_value());
  manager->on_time(clock_.now());
  const auto old_key = manager->published()->onion_key;  // of E+1
  run_until(*manager, start_of(kE + 2) + kO - 1);
  // Something that is not a 32-byte regular file stands where the key was.
  std::filesystem::remove(key_file(kE + 1));
  std::filesystem::create_directory(key_file(kE + 1));

  clock_.set(at(start_of(kE + 2) + kO));
  EXPECT_EQ(manager->on_time(clock_.now()), at(start_of(kE + 2) + kO + 1));
  EXPECT_EQ(ring_->find(kE + 1), nullptr);  // step 1 happened: never used again
  EXPECT_FALSE(create_under(old_key).has_value());

  std::filesystem::remove(key_file(kE + 1));
  write_file(key_file(kE + 1), 32);
  clock_.set(at(start_of(kE + 2) + kO + 1));
  manager->on_time(clock_.now());
  EXPECT_FALSE(std::filesystem::exists(key_file(kE + 1)));
}

TEST_F(OnionKeyManagerTest, TwoRotationsKeepAtMostTwoKeysHeldAndFourFiles) {
  auto manager = open();
  ASSERT_TRUE(manager.has_value());
  manager->on_time(clock_.now());
  run_until(*manager, start_of(kE + 3) + kO + 1);  // run_until checks the bounds throughout
  EXPECT_EQ(manager->ring_epochs(), std::vector<std::uint64_t>{kE + 3});
  EXPECT_EQ(ring_->epoch(), kE + 3);
  for (std::uint64_t epoch = kE + 1; epoch <= kE + 2; ++epoch) {
    EXPECT_FALSE(std::filesystem::exists(key_file(epoch))) << epoch;
  }
  // Before T_{E+4} - 5u the files are E+3 to E+5.
  EXPECT_EQ(key_files(), 3U);
  EXPECT_EQ(manager->published()->epoch, kE + 4);
}

TEST_F(OnionKeyManagerTest, ARestartResumesWithTheSameKeys) {
  std::optional<OnionKeyManager::PublishedKeys> before;
  crypto::X25519PublicKey current_before{};
  {
    auto manager = open();
    ASSERT_TRUE(manager.has_value());
    manager->on_time(clock_.now());
    run_until(*manager, start_of(kE + 2) + 100);  // in E+1's overlap, after E+2 began
    before = manager->published();
    current_before = ring_->current()->key.public_key;
    EXPECT_EQ(manager->ring_epochs(), (std::vector<std::uint64_t>{kE + 1, kE + 2}));
  }
  const std::size_t files = key_files();

  auto restarted = open();
  ASSERT_TRUE(restarted.has_value()) << restarted.error().to_string();
  restarted->on_time(clock_.now());
  const auto after = restarted->published();
  ASSERT_TRUE(before && after);
  EXPECT_EQ(after->epoch, before->epoch);
  EXPECT_EQ(after->onion_key, before->onion_key);
  EXPECT_EQ(after->next_onion_key, before->next_onion_key);
  EXPECT_EQ(restarted->ring_epochs(), (std::vector<std::uint64_t>{kE + 1, kE + 2}));
  ASSERT_NE(ring_->current(), nullptr);
  EXPECT_EQ(ring_->current()->key.public_key, current_before);
  EXPECT_EQ(key_files(), files);  // nothing generated again
}

TEST_F(OnionKeyManagerTest, KeysPastTheirWindowAreErasedAtStart) {
  ASSERT_TRUE(DataDir::open(data()).has_value());
  clock_.set(at(start_of(kE) + 200));  // E-1's overlap lasts until T_E + 310
  write_file(key_file(0), 32);         // the old scheme's single key
  write_file(key_file(kE - 2), 32);
  write_file(key_file(kE - 1), 32);
  write_file(data() / fmt::format("replay-{}.tags", kE - 2), 64);
  write_file(data() / fmt::format("onion-{}.key.tmp-00112233aabbccdd", kE + 1), 32);
  const auto witness = tmp_.path() / "witness";
  std::filesystem::create_hard_link(key_file(kE - 2), witness);

  auto manager = open();
  ASSERT_TRUE(manager.has_value()) << manager.error().to_string();
  EXPECT_FALSE(std::filesystem::exists(key_file(0)));
  EXPECT_FALSE(std::filesystem::exists(key_file(kE - 2)));
  EXPECT_FALSE(std::filesystem::exists(data() / fmt::format("replay-{}.tags", kE - 2)));
  EXPECT_FALSE(
      std::filesystem::exists(data() / fmt::format("onion-{}.key.tmp-00112233aabbccdd", kE + 1)));
  EXPECT_EQ(contents(witness), std::vector<std::uint8_t>(32, 0));
  // Still in its overlap: kept and held.
  EXPECT_TRUE(std::filesystem::exists(key_file(kE - 1)));
  manager->on_time(clock_.now());
  EXPECT_EQ(manager->ring_epochs(), std::vector<std::uint64_t>{kE - 1});
  EXPECT_EQ(manager->on_time(clock_.now()), at(start_of(kE) + kO));
}

TEST_F(OnionKeyManagerTest, ACorruptKeyFileIsReportedByNameAndNotUsed) {
  ASSERT_TRUE(DataDir::open(data()).has_value());
  write_file(key_file(kE + 1), 7);
  auto manager = open();
  ASSERT_FALSE(manager.has_value());
  EXPECT_NE(manager.error().message.find(fmt::format("onion-{}.key", kE + 1)), std::string::npos)
      << manager.error().message;
  EXPECT_EQ(ring_->size(), 0U);
  EXPECT_EQ(std::filesystem::file_size(key_file(kE + 1)), 7U);  // not silently replaced
}

TEST_F(OnionKeyManagerTest, AKeyFileOthersMayReadIsRefusedByName) {
  ASSERT_TRUE(DataDir::open(data()).has_value());
  write_file(key_file(kE + 2), 32, 0644);
  auto manager = open();
  ASSERT_FALSE(manager.has_value());
  EXPECT_NE(manager.error().message.find(fmt::format("onion-{}.key", kE + 2)), std::string::npos)
      << manager.error().message;
}

TEST_F(OnionKeyManagerTest, TheRingTakesTheNextKeyTheMomentTheCurrentStoreFills) {
  replay_capacity_ = 1;  // the first CREATE under a key fills its store
  auto manager = open();
  ASSERT_TRUE(manager.has_value());
  run_until(*manager, start_of(kE + 1) + 100);
  EXPECT_EQ(manager->ring_epochs(), std::vector<std::uint64_t>{kE + 1});
  const auto current_key = ring_->find(kE + 1)->key.public_key;
  const auto next_key = manager->published()->onion_key;  // the descriptor for E+2 names it

  // No on_time() from here: the ring alone must move fresh CREATEs on.
  auto filling = create_under(current_key);
  ASSERT_TRUE(filling.has_value()) << filling.error().to_string();
  EXPECT_EQ(filling->epoch, kE + 1);
  EXPECT_TRUE(ring_->find(kE + 1)->closed.has_value());
  auto early = create_under(next_key);
  ASSERT_TRUE(early.has_value()) << early.error().to_string();
  EXPECT_EQ(early->epoch, kE + 2);
  EXPECT_EQ(ring_->early_rotations().full, 1U);
  EXPECT_EQ(manager->ring_epochs(), (std::vector<std::uint64_t>{kE + 1, kE + 2}));

  // The manager's own hold at T_{E+2} - S keeps the store the early hold
  // made (its tag would be forgotten with a fresh one): one store for E+2.
  run_until(*manager, start_of(kE + 2) - kS + 1);
  EXPECT_EQ(std::count(stores_made_.begin(), stores_made_.end(), kE + 2), 1);
  EXPECT_EQ(ring_->early_rotations().full, 1U);
  EXPECT_EQ(manager->ring_epochs(), (std::vector<std::uint64_t>{kE + 1, kE + 2}));
}

TEST_F(OnionKeyManagerTest, RefusesAClockSkewThePeriodCannotTake) {
  ASSERT_TRUE(DataDir::open(data()).has_value());
  mix::OnionKeyRing ring;
  auto dir = DataDir::open(data());
  auto period = document::Period::from_seconds(kP);
  ASSERT_TRUE(dir && period);
  auto manager = OnionKeyManager::open(
      std::move(*dir), {*period, kU + 1}, ring,
      [](std::uint64_t, const crypto::X25519PublicKey&) {
        return std::make_unique<mix::MemoryReplayStore>(1);
      },
      clock_.now());
  ASSERT_FALSE(manager.has_value());
  EXPECT_EQ(manager.error().category, ErrorCategory::kConfig);
}

}  // namespace
}  // namespace nyx::daemon
