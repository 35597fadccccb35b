// Consensuses (proposal 0002 section 3.4): the byte layout, canonical round
// trips, each refusal of the parser built as bytes, the body digest, and
// add_signature keeping one signature per key in key order.
#include "document/consensus.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/blake2b.hpp"
#include "document/limits.hpp"
#include "document/support/voting_fixtures.hpp"

namespace nyx::document {
namespace {

using test::authority_key;
using test::consensus_signed_by;
using test::RawDocument;
using test::RawEntry;
using test::relay_entry;
using test::signed_consensus;

constexpr std::size_t kSignatureBlock = 32 + 64;

Consensus three_relays(const std::vector<int>& signers = {1, 2}) {
  return signed_consensus({relay_entry(1, 10), relay_entry(2, 20), relay_entry(3, 30)}, signers);
}

RawDocument raw_three_relays() {
  RawDocument raw = RawDocument::consensus();
  for (const RelayEntry& entry : three_relays().entries) {
    const Bytes bytes = entry.descriptor_bytes();
    raw.entries.push_back({entry.weight(), {bytes.begin(), bytes.end()}, std::nullopt});
  }
  return raw;
}

void expect_refused(const std::vector<std::uint8_t>& bytes, const std::string& what) {
  auto parsed = Consensus::parse(bytes);
  ASSERT_FALSE(parsed) << "accepted; expected a refusal naming " << what;
  EXPECT_EQ(parsed.error().category, ErrorCategory::kParse);
  EXPECT_EQ(parsed.error().message.rfind("consensus: ", 0), 0u) << parsed.error().message;
  EXPECT_NE(parsed.error().message.find(what), std::string::npos) << parsed.error().message;
}

void expect_refused(const RawDocument& raw, const std::string& what) {
  expect_refused(consensus_signed_by(raw.body(), {1, 2}), what);
}

TEST(Consensus, RoundTripIsByteExact) {
  for (const Consensus& consensus :
       {signed_consensus({}, {1}), three_relays(), three_relays({1, 2, 3})}) {
    const auto bytes = test::encoded(consensus);
    auto parsed = Consensus::parse(bytes);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    EXPECT_EQ(parsed->period_seconds, test::kPeriodSeconds);
    EXPECT_EQ(parsed->period, test::kQ);
    EXPECT_EQ(parsed->entries.size(), consensus.entries.size());
    EXPECT_EQ(parsed->signatures, consensus.signatures);
    EXPECT_EQ(test::encoded(*parsed), bytes);
  }
}

TEST(Consensus, LayoutIsTheDocumentedOne) {
  EXPECT_EQ(*three_relays().encode_body(), raw_three_relays().body());
  EXPECT_EQ(test::encoded(three_relays()), consensus_signed_by(raw_three_relays().body(), {1, 2}));
  // A header of 21 bytes: magic 6, version 1, P 4, q 8, count 2.
  EXPECT_EQ(signed_consensus({}, {1}).encode_body()->size(), 21u);
}

TEST(Consensus, DigestIsBlake2bOfTheBody) {
  const auto body = *three_relays().encode_body();
  std::array<std::uint8_t, 32> expected{};
  crypto::blake2b(expected, body);
  EXPECT_EQ(consensus_digest(body), expected);
  EXPECT_EQ(*three_relays().digest(), expected);
  // Signatures are outside the body: adding one changes nothing it names.
  EXPECT_EQ(*three_relays({1, 2, 3}).digest(), expected);
}

TEST(Consensus, RefusesABadHeader) {
  RawDocument raw = raw_three_relays();
  raw.magic = "NYXVOT";
  expect_refused(raw, "magic");
  raw = raw_three_relays();
  raw.version = 0;
  expect_refused(raw, "version");
  for (std::uint32_t p : {0u, 25u, 84u, 100000u}) {
    raw = raw_three_relays();
    raw.period_seconds = p;
    expect_refused(raw, "period_seconds");
  }
}

TEST(Consensus, RefusesBadEntries) {
  RawDocument raw = raw_three_relays();
  std::swap(raw.entries[1], raw.entries[2]);
  expect_refused(raw, "sorted by node_id");
  raw = raw_three_relays();
  raw.entries[2] = raw.entries[1];
  expect_refused(raw, "sorted by node_id");
  raw = raw_three_relays();
  raw.entries[0].weight = 0;
  expect_refused(raw, "weight 0");
  raw = raw_three_relays();
  raw.period = test::kQ - 1;  // every entry's descriptor names kQ
  expect_refused(raw, "epoch");
  raw = raw_three_relays();
  raw.entries[1].length = 100;
  expect_refused(raw, "length 100");
  raw = RawDocument::consensus();
  raw.count = static_cast<std::uint16_t>(kMaxEntries + 1);
  expect_refused(raw, "count 16385");
}

TEST(Consensus, RefusesBadSignatureLists) {
  const auto body = raw_three_relays().body();
  auto none = body;
  none.push_back(0);
  expect_refused(none, "sig_count: 0");
  auto too_many = body;
  too_many.push_back(33);
  too_many.resize(too_many.size() + 33 * kSignatureBlock);
  expect_refused(too_many, "sig_count: 33");
  // Two signatures out of key order, and one key twice.
  auto swapped = consensus_signed_by(body, {1, 2});
  std::swap_ranges(swapped.end() - 2 * kSignatureBlock, swapped.end() - kSignatureBlock,
                   swapped.end() - kSignatureBlock);
  expect_refused(swapped, "sorted by authority_key");
  auto twice = consensus_signed_by(body, {1, 2});
  std::copy(twice.end() - 2 * kSignatureBlock, twice.end() - kSignatureBlock,
            twice.end() - kSignatureBlock);
  expect_refused(twice, "sorted by authority_key");
}

TEST(Consensus, RefusesTruncationTrailingBytesAndSize) {
  const auto good = test::encoded(three_relays());
  for (std::size_t cut : {std::size_t{3}, std::size_t{10}, std::size_t{19}, std::size_t{30},
                          good.size() - 2 * kSignatureBlock - 1, good.size() - 1}) {
    expect_refused({good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)}, "truncated");
  }
  auto trailing = good;
  trailing.push_back(0);
  expect_refused(trailing, "trailing");
  auto huge = good;
  huge.resize(kMaxDocument + 1);
  expect_refused(huge, "length: 16777217 bytes");
}

TEST(Consensus, EncoderRefusesWhatTheParserWould) {
  Consensus unsigned_consensus = three_relays({});
  EXPECT_TRUE(unsigned_consensus.encode_body());
  auto no_signature = unsigned_consensus.encode();
  ASSERT_FALSE(no_signature);
  EXPECT_NE(no_signature.error().message.find("sig_count"), std::string::npos);
  Consensus unsorted = three_relays();
  std::swap(unsorted.entries[0], unsorted.entries[2]);
  EXPECT_FALSE(unsorted.encode_body());
  Consensus swapped = three_relays();
  std::swap(swapped.signatures[0], swapped.signatures[1]);
  EXPECT_FALSE(swapped.encode());
}

TEST(Consensus, AddSignatureKeepsKeyOrderAndOnePerKey) {
  const Consensus reference = three_relays({1, 2, 3, 4, 5});
  ASSERT_TRUE(std::is_sorted(
      reference.signatures.begin(), reference.signatures.end(),
      [](const auto& a, const auto& b) { return a.authority_key < b.authority_key; }));
  // Any order of adding gives the same list.
  Consensus backwards = three_relays({});
  for (auto it = reference.signatures.rbegin(); it != reference.signatures.rend(); ++it) {
    ASSERT_TRUE(backwards.add_signature(*it));
  }
  EXPECT_EQ(backwards.signatures, reference.signatures);
  // The same signature again changes nothing; another one by that key is refused.
  ASSERT_TRUE(backwards.add_signature(reference.signatures[2]));
  EXPECT_EQ(backwards.signatures, reference.signatures);
  ConsensusSignature other = reference.signatures[2];
  other.signature[0] ^= 1;
  auto refused = backwards.add_signature(other);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category, ErrorCategory::kInvalidArgument);
  EXPECT_EQ(backwards.signatures, reference.signatures);
}

TEST(Consensus, AtMost32Signatures) {
  Consensus consensus = three_relays({});
  for (int n = 1; n <= 32; ++n) {
    ASSERT_TRUE(consensus.sign(authority_key(n))) << n;
  }
  EXPECT_TRUE(Consensus::parse(test::encoded(consensus)));
  auto refused = consensus.sign(authority_key(33));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category, ErrorCategory::kResourceExhausted);
  EXPECT_EQ(consensus.signatures.size(), kMaxConsensusSignatures);
}

TEST(Consensus, SignaturesAreOverTheBodyInTheirOwnContext) {
  const Consensus consensus = three_relays({1});
  const auto body = *consensus.encode_body();
  EXPECT_TRUE(consensus_signature_valid(consensus.signatures[0], body));
  auto other_body = *three_relays({}).encode_body();
  other_body.back() ^= 1;
  EXPECT_FALSE(consensus_signature_valid(consensus.signatures[0], other_body));
  // A vote signature by the same key over the same bytes is not a consensus signature.
  std::vector<std::uint8_t> message(kVoteSignatureContext.begin(), kVoteSignatureContext.end());
  message.insert(message.end(), body.begin(), body.end());
  const ConsensusSignature as_vote{authority_key(1).public_key, authority_key(1).sign(message)};
  EXPECT_FALSE(consensus_signature_valid(as_vote, body));
}

}  // namespace
}  // namespace nyx::document
