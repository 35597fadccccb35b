// consensus_directory: a consensus signed by real authority keys over real
// self-signed descriptors, verified as the node verifies a fetched one
// (section 6.3), becomes the directory path selection draws from. Checked:
// the consensus weight replaces the self-reported one, the onion key is the
// one of epoch(now) (the descriptor's next key once the period after q has
// begun), the validity is q's, and outside those two epochs no relay is
// eligible.
#include "daemon/consensus_directory.hpp"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "document/period.hpp"
#include "document/support/voting_fixtures.hpp"
#include "document/verify_consensus.hpp"

namespace nyx::daemon {
namespace {

using test::kQ;
using test::kValidAfter;

constexpr std::uint64_t kP = test::kPeriodSeconds;

class ConsensusDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<document::RelayEntry> entries;
    for (int n = 1; n <= 3; ++n) {
      entries.push_back(test::relay_entry(n, static_cast<std::uint32_t>(n * 10)));
    }
    const auto bytes = test::encoded(test::signed_consensus(entries, {1, 2}));
    auto trust = document::ConsensusTrust::make(
        {test::authority_key(1).public_key, test::authority_key(2).public_key,
         test::authority_key(3).public_key},
        0, period_, 300);
    ASSERT_TRUE(trust) << trust.error().message;
    auto verified = document::verify_consensus(bytes, *trust, std::nullopt, kValidAfter + 10);
    ASSERT_TRUE(verified) << verified.error().error.message;
    consensus_ = std::move(verified->consensus);
  }

  // The relay whose identity is `n`'s, in `directory`.
  static const document::NodeDescriptor* node_of(const document::Directory& directory, int n) {
    for (const auto& node : directory.nodes) {
      if (node.identity_key == test::relay_identity(n).public_key) {
        return &node;
      }
    }
    return nullptr;
  }

  document::Period period_ = *document::Period::from_seconds(kP);
  document::Consensus consensus_;
};

TEST_F(ConsensusDirectoryTest, InPeriodQListsEachRelayWithItsConsensusWeightAndKeyOfQ) {
  const auto directory = consensus_directory(consensus_, period_, kValidAfter + 10);
  EXPECT_EQ(directory.valid_after, kValidAfter);
  EXPECT_EQ(directory.valid_until, kValidAfter + 2 * kP);
  ASSERT_EQ(directory.nodes.size(), 3U);
  for (int n = 1; n <= 3; ++n) {
    const auto* node = node_of(directory, n);
    ASSERT_NE(node, nullptr) << n;
    const auto descriptor = test::relay_descriptor(n);
    // The descriptor says 100; path selection draws by what the authorities agreed.
    EXPECT_EQ(node->bandwidth_weight, static_cast<std::uint32_t>(n * 10));
    EXPECT_NE(node->bandwidth_weight, descriptor.bandwidth_weight);
    EXPECT_EQ(node->onion_key, descriptor.onion_key);
    EXPECT_EQ(node->onion_key_epoch, kQ);
    EXPECT_EQ(node->link_key, descriptor.link_key);
    EXPECT_EQ(node->udp_address, descriptor.udp_address.to_text());
    EXPECT_TRUE(node->is_relay());
    EXPECT_FALSE(node->is_exit());
  }
}

TEST_F(ConsensusDirectoryTest, InThePeriodAfterQListsTheNextOnionKey) {
  // Stale but valid: nothing newer was fetched, and epoch(now) = q + 1.
  const auto directory = consensus_directory(consensus_, period_, kValidAfter + kP + 5);
  ASSERT_EQ(directory.nodes.size(), 3U);
  for (int n = 1; n <= 3; ++n) {
    const auto* node = node_of(directory, n);
    ASSERT_NE(node, nullptr) << n;
    const auto descriptor = test::relay_descriptor(n);
    EXPECT_EQ(node->onion_key, descriptor.next_onion_key);
    EXPECT_NE(node->onion_key, descriptor.onion_key);
    EXPECT_EQ(node->onion_key_epoch, kQ + 1);
    EXPECT_EQ(node->bandwidth_weight, static_cast<std::uint32_t>(n * 10));
  }
}

TEST_F(ConsensusDirectoryTest, OutsideItsTwoEpochsNoRelayIsEligible) {
  EXPECT_TRUE(consensus_directory(consensus_, period_, kValidAfter + 2 * kP).nodes.empty());
  EXPECT_TRUE(consensus_directory(consensus_, period_, kValidAfter - 1).nodes.empty());
  EXPECT_EQ(consensus_directory(consensus_, period_, kValidAfter - 1).valid_after, kValidAfter);
}

}  // namespace
}  // namespace nyx::daemon
