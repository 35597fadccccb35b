// The freshness table (proposal 0002 section 6.3), row by row: each test
// builds a consensus that fails exactly one check and expects that check's
// error text and reason label; then the passes (install now, pending), the
// boundaries, garbage signatures that cannot veto, and a forged descriptor.
#include "document/verify_consensus.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/encoding.hpp"
#include "document/limits.hpp"
#include "document/support/voting_fixtures.hpp"

namespace nyx::document {
namespace {

using test::authority_key;
using test::kQ;
using test::kValidAfter;
using test::relay_entry;
using test::signed_consensus;

using Reason = ConsensusRefusalReason;
constexpr std::uint64_t kUnit = test::kPeriodSeconds / 12;
constexpr std::uint64_t kSkew = 300;
constexpr std::uint64_t kNow = kValidAfter + 100;  // consensus kQ is in force

ConsensusTrust trust(std::size_t threshold = 0, std::uint32_t period = test::kPeriodSeconds) {
  auto made = ConsensusTrust::make(
      {authority_key(1).public_key, authority_key(2).public_key, authority_key(3).public_key},
      threshold, *Period::from_seconds(period), kSkew);
  EXPECT_TRUE(made) << made.error().to_string();
  return *made;
}

// Relays 1 to 3, with descriptors for period q.
std::vector<RelayEntry> relays(std::uint64_t q = kQ) {
  std::vector<RelayEntry> out;
  for (int n = 1; n <= 3; ++n) {
    out.push_back(*RelayEntry::from_descriptor(static_cast<std::uint32_t>(n * 10),
                                               test::relay_descriptor(n, q)));
  }
  return out;
}

std::vector<std::uint8_t> good(std::uint64_t q = kQ, const std::vector<int>& signers = {1, 2}) {
  return test::encoded(signed_consensus(relays(q), signers, q));
}

using Outcome = std::expected<VerifiedConsensus, ConsensusRefusal>;

Outcome verify(const std::vector<std::uint8_t>& bytes, std::optional<std::uint64_t> held = {},
               std::uint64_t now = kNow, const ConsensusTrust& with = trust()) {
  return verify_consensus(bytes, with, held, now);
}

void expect_refused(const Outcome& outcome, Reason reason, const std::string& text) {
  ASSERT_FALSE(outcome) << "accepted; expected " << to_string(reason);
  EXPECT_EQ(outcome.error().reason, reason) << outcome.error().error.message;
  EXPECT_EQ(outcome.error().error.code, static_cast<int>(reason));
  EXPECT_EQ(outcome.error().error.message.rfind(text, 0), 0u) << outcome.error().error.message;
  EXPECT_TRUE(outcome.error().is_error());
}

TEST(VerifyConsensus, ReasonLabels) {
  EXPECT_EQ(to_string(Reason::kTooLarge), "too_large");
  EXPECT_EQ(to_string(Reason::kMalformed), "malformed");
  EXPECT_EQ(to_string(Reason::kWrongPeriod), "wrong_period");
  EXPECT_EQ(to_string(Reason::kOlder), "older");
  EXPECT_EQ(to_string(Reason::kSameAsHeld), "not_modified");
  EXPECT_EQ(to_string(Reason::kExpired), "expired");
  EXPECT_EQ(to_string(Reason::kNotYetValid), "not_yet_valid");
  EXPECT_EQ(to_string(Reason::kBelowThreshold), "below_threshold");
  EXPECT_EQ(to_string(Reason::kBadDescriptor), "bad_descriptor");
}

TEST(VerifyConsensus, Check1TooLarge) {
  auto bytes = good();
  bytes.resize(kMaxDocument + 1);
  expect_refused(verify(bytes), Reason::kTooLarge, "too large: 16777217 bytes (at most 16 MiB)");
}

TEST(VerifyConsensus, Check2Malformed) {
  auto bytes = good();
  bytes.push_back(0);
  expect_refused(verify(bytes), Reason::kMalformed, "malformed: consensus: signatures: trailing");
  expect_refused(verify({'N', 'Y', 'X'}), Reason::kMalformed, "malformed: consensus: magic");
}

TEST(VerifyConsensus, Check3WrongPeriodIsAlsoTheLifetimeBound) {
  // Signed validly for another P, and otherwise fresh: P is the only fault.
  // The bound is 2·Y for this node's Y, whatever X the document has: with
  // X = 1800 s, X, 2·X and 2·Y are three different numbers.
  const std::uint64_t q = kNow / 1800;
  const auto shorter = test::encoded(signed_consensus({}, {1, 2}, q, 1800));
  expect_refused(verify(shorter), Reason::kWrongPeriod,
                 "wrong period: 1800s (this node uses 3600s); lifetime would be 3600s, at most "
                 "7200s");
  const std::uint64_t day_q = kNow / 86400;
  const auto longer = test::encoded(signed_consensus({}, {1, 2}, day_q, 86400));
  expect_refused(verify(longer), Reason::kWrongPeriod,
                 "wrong period: 86400s (this node uses 3600s); lifetime would be 172800s, at most "
                 "7200s");
}

TEST(VerifyConsensus, Check4OlderIsRefusedTheSameIsDroppedQuietly) {
  // Consensus kQ − 1 is still valid at kNow (until T_{q+1}); the node holds kQ.
  expect_refused(verify(good(kQ - 1), kQ), Reason::kOlder,
                 "older than held: period 489999 (valid from 2025-11-24T15:00:00Z) < 490000 "
                 "(valid from 2025-11-24T16:00:00Z)");
  auto same = verify(good(), kQ);
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().reason, Reason::kSameAsHeld);
  EXPECT_FALSE(same.error().is_error());
  EXPECT_TRUE(verify(good(), kQ - 1));
}

TEST(VerifyConsensus, Check5Expired) {
  const std::uint64_t valid_until = kValidAfter + 2 * test::kPeriodSeconds;
  expect_refused(verify(good(), {}, valid_until), Reason::kExpired,
                 "expired at 2025-11-24T18:00:00Z (now 2025-11-24T18:00:00Z)");
  EXPECT_TRUE(verify(good(), {}, valid_until - 1));
}

TEST(VerifyConsensus, Check6NotYetValidWidenedBy2uAndTheSkew) {
  const std::uint64_t earliest = kValidAfter - 2 * kUnit - kSkew;
  expect_refused(verify(good(), {}, earliest - 1), Reason::kNotYetValid,
                 "not yet valid: valid from 2025-11-24T16:00:00Z, now 2025-11-24T15:44:59Z; is "
                 "the clock right?");
  auto pending = verify(good(), {}, earliest);
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->when, VerifiedConsensus::When::kPending);
}

TEST(VerifyConsensus, Check7BelowThreshold) {
  // Authority 1 signs validly, authority 2's signature is garbage, authority 9
  // is not configured.
  auto bytes = test::consensus_signed_by(*signed_consensus(relays(), {}).encode_body(), {1, 2, 9});
  const auto key2 = authority_key(2).public_key;
  for (std::size_t at = bytes.size() - 3 * 96; at < bytes.size(); at += 96) {
    if (std::equal(key2.begin(), key2.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at))) {
      bytes[at + 32 + 5] ^= 1;
    }
  }
  expect_refused(verify(bytes), Reason::kBelowThreshold,
                 "below threshold: 1 of 2 configured authorities signed validly (1 bad, 1 "
                 "unknown keys)");
  // Two valid signatures are not enough when all three must sign.
  expect_refused(verify(good(), {}, kNow, trust(3)), Reason::kBelowThreshold,
                 "below threshold: 2 of 3 configured authorities");
  EXPECT_TRUE(verify(good(kQ, {1, 2, 3}), {}, kNow, trust(3)));
}

TEST(VerifyConsensus, Check8AForgedDescriptorIsRefused) {
  // Relay 2's descriptor re-signed by relay 7: well-formed, and the
  // authorities signed the consensus, but the relay never signed it.
  SignedDescriptor forged = test::relay_descriptor(2);
  const auto body = *forged.encode_unsigned();
  std::vector<std::uint8_t> message(kDescriptorSignatureContext.begin(),
                                    kDescriptorSignatureContext.end());
  message.insert(message.end(), body.begin(), body.end());
  forged.signature = test::relay_identity(7).sign(message);
  auto entry = RelayEntry::from_descriptor(20, forged);
  ASSERT_TRUE(entry);
  const auto bytes =
      test::encoded(signed_consensus({relay_entry(1, 10), *entry, relay_entry(3, 30)}, {1, 2, 3}));
  expect_refused(verify(bytes), Reason::kBadDescriptor,
                 "bad descriptor signature: node " + crypto::to_short_hex(entry->node_id()));
}

TEST(VerifyConsensus, Check9InstallNowOrPending) {
  auto now = verify(good(), kQ - 1, kValidAfter);
  ASSERT_TRUE(now) << now.error().error.message;
  EXPECT_EQ(now->when, VerifiedConsensus::When::kInstallNow);
  EXPECT_EQ(now->valid_signatures, 2u);
  EXPECT_EQ(now->consensus.period, kQ);
  EXPECT_EQ(now->consensus.entries.size(), 3u);
  auto pending = verify(good(), kQ - 1, kValidAfter - 1);
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->when, VerifiedConsensus::When::kPending);
}

TEST(VerifyConsensus, AGarbageSignatureCannotVeto) {
  // Two valid signatures and a third under configured authority 3's key that
  // is garbage: a cache appended it. t = 2 valid ones remain.
  auto bytes = good(kQ, {1, 2, 3});
  const auto key3 = authority_key(3).public_key;
  bool spoiled = false;
  for (std::size_t at = bytes.size() - 3 * 96; at < bytes.size(); at += 96) {
    if (std::equal(key3.begin(), key3.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at))) {
      std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(at + 32),
                bytes.begin() + static_cast<std::ptrdiff_t>(at + 96), 0xAB);
      spoiled = true;
    }
  }
  ASSERT_TRUE(spoiled);
  auto outcome = verify(bytes);
  ASSERT_TRUE(outcome) << outcome.error().error.message;
  EXPECT_EQ(outcome->valid_signatures, 2u);
}

TEST(VerifyConsensus, TheFirstFailingCheckDecides) {
  // Expired and signed by no configured authority: expired, the earlier check.
  const auto bytes = good(kQ, {9});
  expect_refused(verify(bytes, {}, kValidAfter + 3 * test::kPeriodSeconds), Reason::kExpired,
                 "expired");
  // Older and for another P: the period check comes first.
  const std::uint64_t q = kNow / 7200;
  expect_refused(verify(test::encoded(signed_consensus({}, {1, 2}, q, 7200)), q + 1),
                 Reason::kWrongPeriod, "wrong period");
}

TEST(VerifyConsensus, TrustRefusesBadConfigurations) {
  const Period hour = *Period::from_seconds(3600);
  const std::vector<crypto::Ed25519PublicKey> three = {
      authority_key(1).public_key, authority_key(2).public_key, authority_key(3).public_key};
  EXPECT_EQ(ConsensusTrust::make(three, 0, hour, kSkew)->threshold(), 2u);
  EXPECT_EQ(ConsensusTrust::make(three, 3, hour, kSkew)->threshold(), 3u);
  // Below a majority two disjoint minorities could each sign a consensus.
  EXPECT_FALSE(ConsensusTrust::make(three, 1, hour, kSkew));
  EXPECT_FALSE(ConsensusTrust::make(three, 4, hour, kSkew));
  EXPECT_FALSE(ConsensusTrust::make({}, 0, hour, kSkew));
  EXPECT_FALSE(ConsensusTrust::make({three[0], three[0]}, 0, hour, kSkew));
  EXPECT_FALSE(ConsensusTrust::make(three, 0, hour, kUnit + 1));
  auto bad = ConsensusTrust::make(three, 1, hour, kSkew);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().category, ErrorCategory::kConfig);
}

}  // namespace
}  // namespace nyx::document
