// Votes (proposal 0002 section 3.3): the byte layout, canonical round trips,
// each refusal of the parser built as bytes, and the signature rules (the
// vote's own, its entries' descriptors', and context separation).
#include "document/vote.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/encoding.hpp"
#include "document/limits.hpp"
#include "document/support/voting_fixtures.hpp"

namespace nyx::document {
namespace {

using test::authority_key;
using test::descriptor_bytes;
using test::RawDocument;
using test::RawEntry;
using test::relay_entry;
using test::signed_vote;

Vote three_relays() {
  return signed_vote(1, {relay_entry(1, 10), relay_entry(2, 20), relay_entry(3, 30)});
}

// The entries of three_relays() as raw entries, in node_id order.
std::vector<RawEntry> raw_entries(const Vote& vote) {
  std::vector<RawEntry> out;
  for (const RelayEntry& entry : vote.entries) {
    const Bytes bytes = entry.descriptor_bytes();
    out.push_back({entry.weight(), {bytes.begin(), bytes.end()}, std::nullopt});
  }
  return out;
}

// Which of relays 1 to 3 an entry lists.
int relay_number(const RelayEntry& entry) {
  for (int n = 1; n <= 3; ++n) {
    if (test::relay_identity(n).public_key == entry.descriptor().identity_key) {
      return n;
    }
  }
  return 0;
}

RawDocument raw_three_relays() {
  RawDocument raw = RawDocument::vote();
  raw.entries = raw_entries(three_relays());
  return raw;
}

// Parses `bytes` and expects a refusal whose message names `what`.
void expect_refused(const std::vector<std::uint8_t>& bytes, const std::string& what) {
  auto parsed = Vote::parse(bytes);
  ASSERT_FALSE(parsed) << "accepted; expected a refusal naming " << what;
  EXPECT_EQ(parsed.error().category, ErrorCategory::kParse);
  EXPECT_EQ(parsed.error().message.rfind("vote: ", 0), 0u) << parsed.error().message;
  EXPECT_NE(parsed.error().message.find(what), std::string::npos) << parsed.error().message;
}

void expect_refused(const RawDocument& raw, const std::string& what) {
  expect_refused(test::vote_signed_by(raw.body(), authority_key(1)), what);
}

TEST(Vote, RoundTripIsByteExact) {
  for (const Vote& vote : {signed_vote(1, {}), three_relays()}) {
    const auto bytes = test::encoded(vote);
    auto parsed = Vote::parse(bytes);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    EXPECT_EQ(parsed->authority_key, vote.authority_key);
    EXPECT_EQ(parsed->period_seconds, test::kPeriodSeconds);
    EXPECT_EQ(parsed->period, test::kQ);
    ASSERT_EQ(parsed->entries.size(), vote.entries.size());
    for (std::size_t i = 0; i < vote.entries.size(); ++i) {
      EXPECT_EQ(parsed->entries[i].weight(), vote.entries[i].weight());
      EXPECT_EQ(parsed->entries[i].node_id(), vote.entries[i].node_id());
    }
    EXPECT_EQ(test::encoded(*parsed), bytes);
    EXPECT_TRUE(parsed->verify());
  }
}

TEST(Vote, LayoutIsTheDocumentedOne) {
  // An encoder written from the proposal alone gives the same bytes.
  EXPECT_EQ(*three_relays().encode_unsigned(), raw_three_relays().body());
  EXPECT_EQ(test::encoded(three_relays()),
            test::vote_signed_by(raw_three_relays().body(), authority_key(1)));
  // magic 6, version 1, key 32, P 4, q 8, count 2, signature 64.
  EXPECT_EQ(test::encoded(signed_vote(1, {})).size(), 6u + 1 + 32 + 4 + 8 + 2 + 64);
}

TEST(Vote, RefusesABadHeader) {
  RawDocument raw = raw_three_relays();
  raw.magic = "NYXVOX";
  expect_refused(raw, "magic");
  raw = raw_three_relays();
  raw.magic = "NYXCNS";  // a consensus is not a vote
  expect_refused(raw, "magic");
  raw = raw_three_relays();
  raw.version = 2;
  expect_refused(raw, "version");
  for (std::uint32_t p : {0u, 23u, 25u, 84u, 172800u}) {
    raw = raw_three_relays();
    raw.period_seconds = p;
    expect_refused(raw, "period_seconds");
  }
}

TEST(Vote, RefusesTruncationAndTrailingBytes) {
  const auto good = test::encoded(three_relays());
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, std::size_t{20}, std::size_t{50},
                          std::size_t{53}, std::size_t{60}, good.size() - 1}) {
    expect_refused({good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)}, "truncated");
  }
  auto trailing = good;
  trailing.push_back(0);
  expect_refused(trailing, "trailing");
}

TEST(Vote, RefusesEntriesOutOfOrderOrTwice) {
  RawDocument raw = raw_three_relays();
  std::swap(raw.entries[0], raw.entries[1]);
  expect_refused(raw, "sorted by node_id");
  raw = raw_three_relays();
  raw.entries[1] = raw.entries[0];  // the same descriptor twice
  expect_refused(raw, "sorted by node_id");
  raw = raw_three_relays();
  // Another descriptor of the first relay right after it: one identity, twice.
  const int first = relay_number(three_relays().entries[0]);
  raw.entries.insert(raw.entries.begin() + 1,
                     RawEntry{5, descriptor_bytes(first, test::kQ, 1), std::nullopt});
  expect_refused(raw, "sorted by node_id");
}

TEST(Vote, RefusesBadEntries) {
  RawDocument raw = raw_three_relays();
  raw.entries[1].weight = 0;
  expect_refused(raw, "weight 0");
  raw = raw_three_relays();
  raw.entries[2].descriptor = descriptor_bytes(9, test::kQ + 1);  // for another period
  expect_refused(raw, "epoch");
  raw = raw_three_relays();
  raw.entries[0].length = 223;
  expect_refused(raw, "length 223");
  raw = raw_three_relays();
  raw.entries[0].length = 4097;
  expect_refused(raw, "length 4097");
  raw = raw_three_relays();
  // A length one longer than the descriptor: it takes a byte of the next entry.
  raw.entries[0].length = static_cast<std::uint16_t>(raw.entries[0].descriptor.size() + 1);
  expect_refused(raw, "entry 0: descriptor");
  raw = raw_three_relays();
  // One shorter: the smallest descriptor (224 bytes) is then below the bound too.
  raw.entries[0].length = static_cast<std::uint16_t>(raw.entries[0].descriptor.size() - 1);
  expect_refused(raw, "entry 0: ");
  raw = raw_three_relays();
  raw.entries[1].descriptor[0] = 1;  // descriptor version 1
  expect_refused(raw, "entry 1: descriptor: version");
}

TEST(Vote, RefusesACountAboveTheBoundOrTheBytes) {
  RawDocument raw = RawDocument::vote();
  raw.count = static_cast<std::uint16_t>(kMaxEntries + 1);
  expect_refused(raw, "count 16385");
  raw = raw_three_relays();
  raw.count = 4;  // the signature is read as a fourth entry
  expect_refused(raw, "entries: entry 3");
}

TEST(Vote, RefusesMoreThanKMaxDocument) {
  auto huge = test::encoded(three_relays());
  huge.resize(kMaxDocument + 1);
  expect_refused(huge, "length: 16777217 bytes");
}

TEST(Vote, EncoderRefusesWhatTheParserWould) {
  Vote vote = three_relays();
  std::swap(vote.entries[0], vote.entries[1]);
  EXPECT_FALSE(vote.encode());
  EXPECT_FALSE(vote.sign(authority_key(1)));
  vote = three_relays();
  vote.entries[0] = vote.entries[0].with_weight(0);
  EXPECT_FALSE(vote.encode());
  vote = three_relays();
  vote.period = test::kQ + 1;  // the entries' descriptors are for kQ
  EXPECT_FALSE(vote.encode());
  vote = three_relays();
  vote.period_seconds = 25;
  auto bad_period = vote.encode();
  ASSERT_FALSE(bad_period);
  EXPECT_EQ(bad_period.error().category, ErrorCategory::kInvalidArgument);
}

TEST(Vote, SignatureIsTheAuthoritysOverEveryByte) {
  const auto good = test::encoded(three_relays());
  // A flipped bit in the signature or in the header fields leaves a vote that
  // parses but does not verify.
  for (std::size_t i :
       {good.size() - 1, good.size() - 64, std::size_t{7}, std::size_t{39}, std::size_t{50}}) {
    auto bad = good;
    bad[i] ^= 0x01;
    auto parsed = Vote::parse(bad);
    if (parsed) {
      EXPECT_FALSE(parsed->verify()) << "byte " << i;
    }
  }
  // Signed by another authority than the one it names.
  auto stolen = Vote::parse(test::vote_signed_by(raw_three_relays().body(), authority_key(2)));
  ASSERT_TRUE(stolen);
  auto status = stolen->verify();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().category, ErrorCategory::kCrypto);
  EXPECT_NE(status.error().message.find("bad signature"), std::string::npos);
}

TEST(Vote, OtherContextsDoNotVerify) {
  const auto body = raw_three_relays().body();
  for (std::string_view context : {"nyx-consensus-v1", "nyx-descriptor-v2", ""}) {
    std::vector<std::uint8_t> message(context.begin(), context.end());
    message.insert(message.end(), body.begin(), body.end());
    const auto signature = authority_key(1).sign(message);
    auto bytes = body;
    bytes.insert(bytes.end(), signature.begin(), signature.end());
    auto parsed = Vote::parse(bytes);
    ASSERT_TRUE(parsed);
    EXPECT_FALSE(parsed->verify()) << context;
  }
}

TEST(Vote, AForgedDescriptorFailsVerification) {
  // Relay 2's descriptor, re-signed by relay 7: it parses (no signature is
  // checked by the parser) but verify() names the node.
  SignedDescriptor forged = test::relay_descriptor(2);
  auto body = *forged.encode_unsigned();
  std::vector<std::uint8_t> message(kDescriptorSignatureContext.begin(),
                                    kDescriptorSignatureContext.end());
  message.insert(message.end(), body.begin(), body.end());
  forged.signature = test::relay_identity(7).sign(message);
  auto entry = RelayEntry::from_descriptor(20, forged);
  ASSERT_TRUE(entry);
  const Vote vote = signed_vote(1, {relay_entry(1, 10), *entry, relay_entry(3, 30)});
  auto parsed = Vote::parse(test::encoded(vote));
  ASSERT_TRUE(parsed);
  auto status = parsed->verify();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message,
            "bad descriptor signature: node " + crypto::to_short_hex(entry->node_id()));
}

TEST(Vote, SignRefusesAnotherKey) {
  Vote vote = three_relays();
  const auto before = vote.signature;
  auto status = vote.sign(authority_key(2));
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().category, ErrorCategory::kInvalidArgument);
  EXPECT_EQ(vote.signature, before);
}

}  // namespace
}  // namespace nyx::document
