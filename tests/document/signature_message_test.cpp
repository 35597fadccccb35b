// Signature messages (proposal 0002 section 3.5): 147 bytes, fixed; the
// layout, round trips, each refusal, and the receiver's check against its
// own body (a different digest is told apart from a bad signature).
#include "document/signature_message.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "document/support/voting_fixtures.hpp"

namespace nyx::document {
namespace {

using test::authority_key;
using test::relay_entry;

Consensus unsigned_consensus() {
  return test::signed_consensus({relay_entry(1, 10), relay_entry(2, 20)}, {});
}

SignatureMessage made(int authority = 1) {
  auto message = SignatureMessage::make(unsigned_consensus(), authority_key(authority));
  EXPECT_TRUE(message);
  return *message;
}

std::vector<std::uint8_t> encoded(const SignatureMessage& message) {
  auto bytes = message.encode();
  EXPECT_TRUE(bytes);
  return {bytes->begin(), bytes->end()};
}

void expect_refused(const std::vector<std::uint8_t>& bytes, const std::string& what) {
  auto parsed = SignatureMessage::parse(bytes);
  ASSERT_FALSE(parsed) << "accepted; expected a refusal naming " << what;
  EXPECT_EQ(parsed.error().category, ErrorCategory::kParse);
  EXPECT_NE(parsed.error().message.find("signature message: " + what), std::string::npos)
      << parsed.error().message;
}

TEST(SignatureMessage, LayoutAndRoundTrip) {
  const SignatureMessage message = made();
  const auto body = *unsigned_consensus().encode_body();
  const auto bytes = encoded(message);
  ASSERT_EQ(bytes.size(), kSignatureMessageSize);
  std::vector<std::uint8_t> expected = {'N', 'Y', 'X', 'S', 'I', 'G', 1, 0, 0, 0x0e, 0x10};
  for (int i = 7; i >= 0; --i) {
    expected.push_back(static_cast<std::uint8_t>(test::kQ >> (8 * i)));
  }
  const ConsensusDigest digest = consensus_digest(body);
  expected.insert(expected.end(), digest.begin(), digest.end());
  const auto key = authority_key(1).public_key;
  expected.insert(expected.end(), key.begin(), key.end());
  const auto signature = sign_consensus_body(authority_key(1), body).signature;
  expected.insert(expected.end(), signature.begin(), signature.end());
  EXPECT_EQ(bytes, expected);

  auto parsed = SignatureMessage::parse(bytes);
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->period_seconds, test::kPeriodSeconds);
  EXPECT_EQ(parsed->period, test::kQ);
  EXPECT_EQ(parsed->consensus_digest, digest);
  EXPECT_EQ(parsed->authority_key, key);
  EXPECT_EQ(encoded(*parsed), bytes);
}

TEST(SignatureMessage, RefusesAnythingButTheFixedForm) {
  const auto good = encoded(made());
  expect_refused({good.begin(), good.end() - 1}, "length: 146 bytes, expected 147");
  auto longer = good;
  longer.push_back(0);
  expect_refused(longer, "length: 148 bytes");
  expect_refused({}, "length: 0 bytes");
  auto magic = good;
  magic[5] = 'X';
  expect_refused(magic, "magic");
  auto version = good;
  version[6] = 2;
  expect_refused(version, "version");
  auto period = good;
  period[10] = 0x11;  // 3601 s
  expect_refused(period, "period_seconds");
}

TEST(SignatureMessage, CheckedAgainstTheReceiversOwnBody) {
  const auto own = *unsigned_consensus().encode_body();
  EXPECT_TRUE(made(2).check_against(own));
  // The signer computed another body: the signature cannot be checked.
  Consensus other = unsigned_consensus();
  other.entries.pop_back();
  auto different = SignatureMessage::make(other, authority_key(2));
  ASSERT_TRUE(different);
  auto status = different->check_against(own);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().category, ErrorCategory::kProtocol);
  EXPECT_NE(status.error().message.find("signed a different consensus"), std::string::npos);
  // Same digest, but a signature that does not verify.
  SignatureMessage forged = made(2);
  forged.signature[10] ^= 1;
  status = forged.check_against(own);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().category, ErrorCategory::kCrypto);
  // Another authority's signature presented under this key.
  SignatureMessage stolen = made(3);
  stolen.authority_key = authority_key(2).public_key;
  EXPECT_FALSE(stolen.check_against(own));
}

TEST(SignatureMessage, ItsSignatureJoinsTheConsensus) {
  Consensus consensus = unsigned_consensus();
  ASSERT_TRUE(consensus.add_signature(made(1).consensus_signature()));
  ASSERT_TRUE(consensus.add_signature(made(2).consensus_signature()));
  EXPECT_EQ(consensus.signatures,
            test::signed_consensus({relay_entry(1, 10), relay_entry(2, 20)}, {1, 2}).signatures);
}

}  // namespace
}  // namespace nyx::document
