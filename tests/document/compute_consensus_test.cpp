// compute_consensus (proposal 0002 section 5.5): the N = 3 cases of section
// 5.8, a majority of the configured authorities rather than of the votes
// held, the low median, two descriptors of one identity, and a result that
// does not depend on the order of the votes.
#include "document/compute_consensus.hpp"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "document/limits.hpp"
#include "document/support/voting_fixtures.hpp"

namespace nyx::document {
namespace {

using test::relay_entry;
using test::signed_vote;

const Period& hour() {
  static const Period period = *Period::from_seconds(test::kPeriodSeconds);
  return period;
}

Result<Consensus> compute(std::size_t n, const std::vector<Vote>& votes) {
  return compute_consensus(hour(), test::kQ, n, votes);
}

// The body computed from `votes`; empty when none is.
std::vector<std::uint8_t> body_of(std::size_t n, const std::vector<Vote>& votes) {
  auto consensus = compute(n, votes);
  EXPECT_TRUE(consensus);
  if (!consensus) {
    return {};
  }
  return consensus->encode_body().value_or(std::vector<std::uint8_t>{});
}

// The relays a consensus lists, by relay number (1 to 9), with their weights.
std::vector<std::pair<int, std::uint32_t>> listed(const Consensus& consensus) {
  std::vector<std::pair<int, std::uint32_t>> out;
  for (const RelayEntry& entry : consensus.entries) {
    for (int n = 1; n <= 9; ++n) {
      if (entry.descriptor().identity_key == test::relay_identity(n).public_key) {
        out.emplace_back(n, entry.weight());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

using Listing = std::vector<std::pair<int, std::uint32_t>>;

// Relay 1 in every vote, relay 2 in votes 1 and 2, relay 3 in vote 3 only.
std::vector<Vote> three_votes() {
  return {
      signed_vote(1, {relay_entry(1, 10), relay_entry(2, 50)}),
      signed_vote(2, {relay_entry(1, 30), relay_entry(2, 70)}),
      signed_vote(3, {relay_entry(1, 20), relay_entry(3, 40)}),
  };
}

TEST(ComputeConsensus, ThreeVotesOfThreeListWhatTwoAgreeOn) {
  auto consensus = compute(3, three_votes());
  ASSERT_TRUE(consensus) << consensus.error().to_string();
  EXPECT_EQ(consensus->period_seconds, test::kPeriodSeconds);
  EXPECT_EQ(consensus->period, test::kQ);
  EXPECT_TRUE(consensus->signatures.empty());
  // Relay 1: weights 10, 20, 30 -> 20. Relay 2: 50, 70 -> 50 (low median).
  EXPECT_EQ(listed(*consensus), (Listing{{1, 20}, {2, 50}}));
  EXPECT_TRUE(consensus->encode_body());
}

TEST(ComputeConsensus, TwoVotesOfThreeListWhatBothList) {
  auto votes = three_votes();
  votes.erase(votes.begin() + 1);  // authority 2 is down
  auto consensus = compute(3, votes);
  ASSERT_TRUE(consensus);
  EXPECT_EQ(listed(*consensus), (Listing{{1, 10}}));  // weights 10, 20
}

TEST(ComputeConsensus, OneVoteOfThreeMakesNone) {
  auto consensus = compute(3, {three_votes()[0]});
  ASSERT_FALSE(consensus);
  EXPECT_EQ(consensus.error().code, static_cast<int>(ComputeErrc::kTooFewVotes));
  EXPECT_EQ(consensus.error().message, "too few votes: 1 of 3, 2 needed");
  EXPECT_EQ(compute(3, {}).error().message, "too few votes: 0 of 3, 2 needed");
}

TEST(ComputeConsensus, MajorityOfTheConfiguredAuthoritiesNotOfTheVotes) {
  // Five configured, three votes: a relay needs 3 listings, not 2 of the 3 held.
  const std::vector<Vote> votes = {
      signed_vote(1, {relay_entry(1, 10), relay_entry(2, 10)}),
      signed_vote(2, {relay_entry(1, 10), relay_entry(2, 10)}),
      signed_vote(3, {relay_entry(1, 10)}),
  };
  auto five = compute(5, votes);
  ASSERT_TRUE(five);
  EXPECT_EQ(listed(*five), (Listing{{1, 10}}));
  // The same votes with three configured: two listings are a majority.
  auto three = compute(3, votes);
  ASSERT_TRUE(three);
  EXPECT_EQ(listed(*three), (Listing{{1, 10}, {2, 10}}));
  // Two of five votes present: no consensus at all.
  auto two_of_five = compute(5, {votes[0], votes[1]});
  ASSERT_FALSE(two_of_five);
  EXPECT_EQ(two_of_five.error().message, "too few votes: 2 of 5, 3 needed");
}

TEST(ComputeConsensus, LowMedianWeight) {
  // Odd count: the middle one; even count: the lower of the two middle ones.
  auto odd = compute(5, {signed_vote(1, {relay_entry(1, 1000)}),
                         signed_vote(2, {relay_entry(1, 7)}), signed_vote(3, {relay_entry(1, 9)})});
  ASSERT_TRUE(odd);
  EXPECT_EQ(listed(*odd), (Listing{{1, 9}}));
  auto even =
      compute(5, {signed_vote(1, {relay_entry(1, 5)}), signed_vote(2, {relay_entry(1, 100)}),
                  signed_vote(3, {relay_entry(1, 1000)}), signed_vote(4, {relay_entry(1, 90)})});
  ASSERT_TRUE(even);
  EXPECT_EQ(listed(*even), (Listing{{1, 90}}));
  // A minority cannot push the weight above what the others voted: one
  // authority of three says 4 billion, the other says 3.
  auto pushed = compute(
      3, {signed_vote(1, {relay_entry(1, 4'000'000'000)}), signed_vote(2, {relay_entry(1, 3)})});
  ASSERT_TRUE(pushed);
  EXPECT_EQ(listed(*pushed), (Listing{{1, 3}}));
}

TEST(ComputeConsensus, TwoDescriptorsOfOneIdentity) {
  // Relay 1 uploaded twice around the deadline: descriptor 0 reached
  // authorities 1 and 2, descriptor 1 reached authority 3.
  auto one_wins =
      compute(3, {signed_vote(1, {relay_entry(1, 10, 0)}), signed_vote(2, {relay_entry(1, 10, 0)}),
                  signed_vote(3, {relay_entry(1, 10, 1)})});
  ASSERT_TRUE(one_wins);
  ASSERT_EQ(one_wins->entries.size(), 1u);
  const Bytes listed_bytes = one_wins->entries[0].descriptor_bytes();
  EXPECT_EQ(std::vector<std::uint8_t>(listed_bytes.begin(), listed_bytes.end()),
            test::descriptor_bytes(1, test::kQ, 0));
  // With authority 2 down, neither descriptor has a majority: the relay is absent.
  auto neither = compute(
      3, {signed_vote(1, {relay_entry(1, 10, 0)}), signed_vote(3, {relay_entry(1, 10, 1)})});
  ASSERT_TRUE(neither);
  EXPECT_TRUE(neither->entries.empty());
}

TEST(ComputeConsensus, IndependentOfTheOrderOfTheVotes) {
  for (std::size_t n : {std::size_t{3}, std::size_t{5}}) {
    std::vector<Vote> votes;
    for (int a = 1; a <= static_cast<int>(n); ++a) {
      std::vector<RelayEntry> entries;
      for (int relay = 1; relay <= 9; ++relay) {
        if ((relay + a) % 3 != 0) {  // each authority misses a third of the relays
          entries.push_back(relay_entry(relay, static_cast<std::uint32_t>(relay * 10 + a)));
        }
      }
      votes.push_back(signed_vote(a, std::move(entries)));
    }
    const auto reference = body_of(n, votes);
    ASSERT_GT(reference.size(), 21u);  // lists some relays
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) {
      order[i] = i;
    }
    do {  // every permutation: 6 for three votes, 120 for five
      std::vector<Vote> permuted;
      for (std::size_t i : order) {
        permuted.push_back(votes[i]);
      }
      EXPECT_EQ(body_of(n, permuted), reference) << n;
    } while (std::next_permutation(order.begin(), order.end()));
    // The inputs are sets: entries held in any order within each vote (as
    // an authority may hold them before encoding) change nothing either.
    std::mt19937 rng(static_cast<std::mt19937::result_type>(n));
    for (int round = 0; round < 100; ++round) {
      std::vector<Vote> shuffled = votes;
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      for (Vote& vote : shuffled) {
        std::shuffle(vote.entries.begin(), vote.entries.end(), rng);
      }
      EXPECT_EQ(body_of(n, shuffled), reference) << n << " round " << round;
    }
  }
}

TEST(ComputeConsensus, RefusesInputsThatAreNotASetOfVotesForQ) {
  const auto votes = three_votes();
  auto twice = compute(3, {votes[0], votes[0]});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, static_cast<int>(ComputeErrc::kBadInput));
  auto other_period = compute(3, {votes[0], signed_vote(2, {}, test::kQ + 1)});
  ASSERT_FALSE(other_period);
  EXPECT_EQ(other_period.error().code, static_cast<int>(ComputeErrc::kBadInput));
  auto other_p = compute(3, {votes[0], signed_vote(2, {}, test::kQ, 1800)});
  ASSERT_FALSE(other_p);
  EXPECT_EQ(other_p.error().code, static_cast<int>(ComputeErrc::kBadInput));
  EXPECT_FALSE(compute(2, votes));  // more votes than authorities
  EXPECT_FALSE(compute(0, {}));
  EXPECT_FALSE(compute(33, votes));
}

// A hand-built vote that lists one descriptor twice is one voter, not two:
// with one honest vote of three, relay 5 must not reach the majority.
TEST(ComputeConsensus, ARepeatedEntryInOneVoteDoesNotCountTwice) {
  Vote stuffed = signed_vote(1, {relay_entry(1, 10)});
  stuffed.entries.push_back(relay_entry(5, 10));
  stuffed.entries.push_back(relay_entry(5, 10));
  const Vote honest = signed_vote(2, {relay_entry(1, 10)});
  auto result = compute(3, {stuffed, honest});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, static_cast<int>(ComputeErrc::kBadInput));
  EXPECT_NE(result.error().message.find("twice"), std::string::npos) << result.error().message;
}

// Two votes by one authority, even with different contents, are one voter.
TEST(ComputeConsensus, TwoDifferentVotesByOneAuthorityAreRefused) {
  auto twice = compute(3, {signed_vote(1, {relay_entry(4, 10)}),
                           signed_vote(1, {relay_entry(4, 10), relay_entry(5, 10)})});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, static_cast<int>(ComputeErrc::kBadInput));
}

// Unsigned descriptors of an exact encoded length (compute_consensus checks
// no signature), so a test can fill a consensus to a chosen size cheaply.
RelayEntry entry_of_length(int n, std::size_t length) {
  SignedDescriptor d;
  d.identity_key[0] = 0x7A;
  d.identity_key[1] = static_cast<std::uint8_t>(n);
  d.identity_key[2] = static_cast<std::uint8_t>(n >> 8);
  d.published = test::kValidAfter - 4000;
  d.epoch = test::kQ;
  d.onion_key[0] = 1;
  d.next_onion_key[0] = 2;
  d.link_key[0] = 3;
  d.udp_address.kind = NodeAddress::Kind::kIpv4;
  d.udp_address.ip = {8, 8, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  d.udp_address.port = 9340;
  std::vector<std::string> rules;
  if (length > kMinSignedDescriptor) {
    d.roles = kRolesRelayExit;
    // Each rule is a str8: "accept <host>:443" of 12 to 64 bytes.
    std::size_t need = length - kMinSignedDescriptor;
    const std::size_t full = (need - 13) / 65;
    std::size_t last = need - 65 * full;  // 13 to 77
    if (last > 65) {
      d.family.assign(last - 65, 'f');
      last = 65;
    }
    for (std::size_t i = 0; i <= full; ++i) {
      const std::size_t text = i < full ? 64 : last - 1;
      rules.push_back("accept " + std::string(text - 11, 'a' + static_cast<char>(i % 26)) + ":443");
    }
    d.exit_rules = *AdvertisedExitRules::parse(rules);
  }
  auto entry = RelayEntry::from_descriptor(1, d);
  EXPECT_TRUE(entry) << entry.error().to_string();
  EXPECT_EQ(entry->descriptor_bytes().size(), length);
  return *entry;
}

// The consensus of one authority (N = 1) needs room for one signature, not
// 32: a body that leaves exactly 1 + 96 bytes under 16 MiB must be made.
TEST(ComputeConsensus, ReservesRoomForTheConfiguredAuthoritiesSignaturesOnly) {
  constexpr std::size_t kHeader = 21;
  constexpr std::size_t kEntry = 4000;
  constexpr std::size_t kBodyWanted = kMaxDocument - 1 - 96;
  const std::size_t full = (kBodyWanted - kHeader) / (6 + kEntry);
  const std::size_t last = kBodyWanted - kHeader - full * (6 + kEntry) - 6;
  ASSERT_LE(last, kMaxSignedDescriptor);
  Vote vote;
  vote.authority_key = test::authority_key(1).public_key;
  vote.period_seconds = test::kPeriodSeconds;
  vote.period = test::kQ;
  for (std::size_t i = 0; i < full; ++i) {
    vote.entries.push_back(entry_of_length(static_cast<int>(i), kEntry));
  }
  vote.entries.push_back(entry_of_length(static_cast<int>(full), last));
  std::sort(vote.entries.begin(), vote.entries.end(),
            [](const RelayEntry& a, const RelayEntry& b) { return a.node_id() < b.node_id(); });
  auto consensus = compute(1, {vote});
  ASSERT_TRUE(consensus) << consensus.error().to_string();
  ASSERT_EQ(consensus->encode_body()->size(), kBodyWanted);
  ASSERT_TRUE(consensus->sign(test::authority_key(1)));
  EXPECT_EQ(consensus->encode()->size(), kMaxDocument);

  // One byte more does not fit: refused, naming the bound.
  const RelayEntry longer = entry_of_length(static_cast<int>(full), last + 1);
  std::replace_if(
      vote.entries.begin(), vote.entries.end(),
      [&](const RelayEntry& e) { return e.node_id() == longer.node_id(); }, longer);
  auto over = compute(1, {vote});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, static_cast<int>(ComputeErrc::kTooLarge));
  EXPECT_EQ(over.error().message,
            "compute consensus: too large: a body of 16777120 bytes and room for 1 signature "
            "exceed 16777216 bytes");
}

// Three votes of at most 16384 entries each, every relay listed by two of
// them: 16500 relays reach a majority, more than a consensus may list.
TEST(ComputeConsensus, MoreThan16384ListedRelaysAreRefusedByName) {
  constexpr int kPerPair = 5500;
  std::vector<std::vector<RelayEntry>> lists(3);
  for (int i = 0; i < 3 * kPerPair; ++i) {
    const RelayEntry entry = entry_of_length(i, kMinSignedDescriptor);
    const auto pair = static_cast<std::size_t>(i / kPerPair);  // 0: votes 0, 1; 1: 1, 2; 2: 0, 2
    lists[pair == 2 ? 0 : pair].push_back(entry);
    lists[pair == 2 ? 2 : pair + 1].push_back(entry);
  }
  std::vector<Vote> votes;
  for (std::size_t a = 0; a < 3; ++a) {
    Vote vote;
    vote.authority_key = test::authority_key(static_cast<int>(a) + 1).public_key;
    vote.period_seconds = test::kPeriodSeconds;
    vote.period = test::kQ;
    vote.entries = std::move(lists[a]);
    std::sort(vote.entries.begin(), vote.entries.end(),
              [](const RelayEntry& x, const RelayEntry& y) { return x.node_id() < y.node_id(); });
    votes.push_back(std::move(vote));
  }
  auto result = compute(3, votes);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, static_cast<int>(ComputeErrc::kTooLarge));
  EXPECT_EQ(result.error().message,
            "compute consensus: too large: 16500 relays reach a majority, at most 16384 in one "
            "consensus");
}

}  // namespace
}  // namespace nyx::document
