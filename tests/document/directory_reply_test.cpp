// Directory stream replies (proposal 0002 section 4.4): the examples of the
// section, a round trip of every status for every request type it may
// answer, incremental decoding at every split point, and each refusal with
// its own error code, every bound tried exactly at and one past it.
#include "document/directory_reply.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "document/support/voting_fixtures.hpp"
#include "support/hex.hpp"

namespace nyx::document {
namespace {

using test::unhex;
using Type = DirectoryRequestType;

constexpr Type kAllTypes[] = {Type::kGetConsensus, Type::kPostDescriptor, Type::kPostVote,
                              Type::kGetVote,      Type::kPostSignature,  Type::kGetSignatures};

DirectoryStreamErrc error_code(const Error& error) {
  return static_cast<DirectoryStreamErrc>(error.code);
}

std::vector<std::uint8_t> encoded(Type type, const DirectoryReply& reply) {
  auto bytes = encode_directory_reply(type, reply);
  EXPECT_TRUE(bytes) << bytes.error().to_string();
  return bytes.value_or(std::vector<std::uint8_t>{});
}

SignaturesReply signatures(std::size_t count) {
  SignaturesReply reply;
  for (std::size_t i = 0; i < count; ++i) {
    ConsensusSignature signature;
    signature.authority_key.fill(static_cast<std::uint8_t>(i + 1));
    signature.signature.fill(static_cast<std::uint8_t>(0x80 + i));
    reply.signatures.push_back(signature);
  }
  return reply;
}

// Every reply that may answer every type, carrying real documents.
std::vector<std::pair<Type, DirectoryReply>> every_reply() {
  std::vector<std::pair<Type, DirectoryReply>> all = {
      {Type::kGetConsensus,
       ConsensusReply{test::encoded(test::signed_consensus({test::relay_entry(1, 10)}, {1, 2}))}},
      {Type::kGetConsensus, NotModifiedReply{}},
      {Type::kPostDescriptor, DescriptorAcceptedReply{test::kQ}},
      {Type::kPostVote, AcceptedReply{}},
      {Type::kPostSignature, AcceptedReply{}},
      {Type::kGetVote, VoteReply{test::encoded(test::signed_vote(1, {test::relay_entry(1, 10)}))}},
      {Type::kGetSignatures, signatures(3)},
  };
  for (Type type : {Type::kGetConsensus, Type::kGetVote, Type::kGetSignatures}) {
    all.emplace_back(type, NotFoundReply{});
  }
  for (Type type : kAllTypes) {
    all.emplace_back(type, RefusedReply{RefusalReason::kWrongEpoch, "open epoch 490001"});
    all.emplace_back(type, BusyReply{30});
  }
  return all;
}

void expect_refused(Type type, const std::vector<std::uint8_t>& bytes, DirectoryStreamErrc code) {
  auto at_fin = decode_directory_reply_at_fin(type, bytes);
  ASSERT_FALSE(at_fin) << "accepted";
  EXPECT_EQ(at_fin.error().category, ErrorCategory::kParse);
  EXPECT_EQ(error_code(at_fin.error()), code) << at_fin.error().message;
  EXPECT_NE(at_fin.error().message.find("directory reply: "), std::string::npos);
}

std::vector<std::uint8_t> be(std::uint64_t value, int width) {
  std::vector<std::uint8_t> out;
  for (int i = width - 1; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
  return out;
}

std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::uint8_t> refused(std::uint8_t reason, const std::vector<std::uint8_t>& text) {
  return concat({1, 3, reason, static_cast<std::uint8_t>(text.size())}, text);
}

TEST(DirectoryReply, ExamplesOfSection44) {
  EXPECT_EQ(encoded(Type::kGetConsensus, NotModifiedReply{}), unhex("0101"));
  const std::string message = "unreachable: udp 198.51.100.7:9340: no handshake in 10 s";
  const auto bytes =
      encoded(Type::kPostDescriptor, RefusedReply{RefusalReason::kUnreachable, message});
  EXPECT_EQ(bytes, refused(5, std::vector<std::uint8_t>(message.begin(), message.end())));
  auto decoded = decode_directory_reply_at_fin(Type::kPostDescriptor, bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<RefusedReply>(*decoded).message, message);
}

TEST(DirectoryReply, EveryStatusRoundTripsForEveryTypeItAnswers) {
  for (const auto& [type, reply] : every_reply()) {
    const auto bytes = encoded(type, reply);
    ASSERT_GE(bytes.size(), 2u);
    EXPECT_EQ(bytes[0], 1);
    EXPECT_EQ(bytes[1], static_cast<std::uint8_t>(reply_status(reply)));
    auto decoded = decode_directory_reply_at_fin(type, bytes);
    ASSERT_TRUE(decoded) << static_cast<int>(type) << ": " << decoded.error().to_string();
    EXPECT_EQ(*decoded, reply);
    EXPECT_EQ(encoded(type, *decoded), bytes);
  }
}

TEST(DirectoryReply, OkBodiesByRequestType) {
  EXPECT_EQ(encoded(Type::kPostVote, AcceptedReply{}), unhex("0100"));
  EXPECT_EQ(encoded(Type::kPostDescriptor, DescriptorAcceptedReply{0x0102030405060708}),
            unhex("01000102030405060708"));
  EXPECT_EQ(encoded(Type::kGetConsensus, BusyReply{3600}), unhex("01040e10"));
  const auto sigs = encoded(Type::kGetSignatures, signatures(2));
  ASSERT_EQ(sigs.size(), 2u + 1 + 2 * 96);
  EXPECT_EQ(sigs[2], 2);
  EXPECT_EQ(sigs[3], 1);          // first key
  EXPECT_EQ(sigs[3 + 32], 0x80);  // its signature
  const auto vote = test::encoded(test::signed_vote(1, {}));
  EXPECT_EQ(encoded(Type::kGetVote, VoteReply{vote}),
            concat(concat({1, 0}, be(vote.size(), 4)), vote));
}

TEST(DirectoryReply, IncompleteAtEverySplitPoint) {
  for (const auto& [type, reply] : every_reply()) {
    const auto bytes = encoded(type, reply);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      const Bytes prefix(bytes.data(), cut);
      auto progress = decode_directory_reply(type, prefix);
      ASSERT_TRUE(progress) << "cut " << cut << ": " << progress.error().message;
      const auto* need = std::get_if<NeedMore>(&*progress);
      ASSERT_NE(need, nullptr) << "cut " << cut;
      EXPECT_GT(need->bytes, 0u);
      EXPECT_LE(cut + need->bytes, bytes.size()) << "cut " << cut;
      auto at_fin = decode_directory_reply_at_fin(type, prefix);
      ASSERT_FALSE(at_fin);
      EXPECT_EQ(error_code(at_fin.error()), DirectoryStreamErrc::kTruncated);
    }
  }
}

TEST(DirectoryReply, BytesAfterTheReplyAreRefused) {
  for (const auto& [type, reply] : every_reply()) {
    auto bytes = encoded(type, reply);
    bytes.push_back(0);
    expect_refused(type, bytes, DirectoryStreamErrc::kTrailingBytes);
  }
}

TEST(DirectoryReply, OtherVersionsAreRefused) {
  for (std::uint8_t version : std::initializer_list<std::uint8_t>{0, 2, 0xFF}) {
    expect_refused(Type::kGetConsensus, {version, 1}, DirectoryStreamErrc::kBadVersion);
  }
}

TEST(DirectoryReply, StatusAboveFourIsRefused) {
  for (Type type : kAllTypes) {
    for (std::uint8_t status : std::initializer_list<std::uint8_t>{5, 6, 0xFF}) {
      expect_refused(type, {1, status, 0, 1}, DirectoryStreamErrc::kUnknownStatus);
    }
  }
}

TEST(DirectoryReply, StatusesThatCannotAnswerTheRequestAreRefused) {
  // NOT_MODIFIED answers GET_CONSENSUS only; NOT_FOUND a GET only.
  for (Type type : {Type::kPostDescriptor, Type::kPostVote, Type::kGetVote, Type::kPostSignature,
                    Type::kGetSignatures}) {
    expect_refused(type, {1, 1}, DirectoryStreamErrc::kStatusNotForRequest);
  }
  for (Type type : {Type::kPostDescriptor, Type::kPostVote, Type::kPostSignature}) {
    expect_refused(type, {1, 2}, DirectoryStreamErrc::kStatusNotForRequest);
  }
  // The encoder will not write a body for another request's type.
  const std::vector<std::pair<Type, DirectoryReply>> mismatched = {
      {Type::kGetVote, ConsensusReply{std::vector<std::uint8_t>(kMinConsensus)}},
      {Type::kGetConsensus, VoteReply{std::vector<std::uint8_t>(kMinVote)}},
      {Type::kGetSignatures, AcceptedReply{}},
      {Type::kPostVote, DescriptorAcceptedReply{1}},
      {Type::kPostVote, NotModifiedReply{}},
      {Type::kPostSignature, NotFoundReply{}},
  };
  for (const auto& [type, reply] : mismatched) {
    auto bytes = encode_directory_reply(type, reply);
    ASSERT_FALSE(bytes) << static_cast<int>(type);
    EXPECT_EQ(bytes.error().category, ErrorCategory::kInvalidArgument);
    EXPECT_EQ(error_code(bytes.error()), DirectoryStreamErrc::kStatusNotForRequest);
  }
}

TEST(DirectoryReply, RefusalReasonsOneToTen) {
  for (std::uint8_t reason : std::initializer_list<std::uint8_t>{1, 10}) {
    auto decoded = decode_directory_reply_at_fin(Type::kGetVote, refused(reason, {}));
    ASSERT_TRUE(decoded) << int{reason};
    EXPECT_EQ(static_cast<int>(std::get<RefusedReply>(*decoded).reason), reason);
  }
  for (std::uint8_t reason : std::initializer_list<std::uint8_t>{0, 11, 0xFF}) {
    expect_refused(Type::kGetVote, refused(reason, {'x'}), DirectoryStreamErrc::kUnknownReason);
    // Known from the reason byte, before the message arrives.
    EXPECT_FALSE(decode_directory_reply(Type::kGetVote, std::vector<std::uint8_t>{1, 3, reason}));
  }
}

TEST(DirectoryReply, RefusalMessageMustBeUtf8) {
  const std::vector<std::uint8_t> longest(kMaxRefusalMessage, 'a');
  EXPECT_TRUE(decode_directory_reply_at_fin(Type::kGetVote, refused(1, longest)));
  EXPECT_TRUE(
      decode_directory_reply_at_fin(Type::kGetVote, refused(1, unhex("c3a9e282acf09f9880"))));
  for (const char* bad : {"ff", "c080", "c1bf", "eda080", "e082", "f4908080", "f880808080", "80"}) {
    expect_refused(Type::kGetVote, refused(1, unhex(bad)), DirectoryStreamErrc::kBadMessageText);
  }
  auto too_long = encode_directory_reply(
      Type::kGetVote,
      RefusedReply{RefusalReason::kLimit, std::string(kMaxRefusalMessage + 1, 'a')});
  ASSERT_FALSE(too_long);
  EXPECT_EQ(error_code(too_long.error()), DirectoryStreamErrc::kLengthOutOfBounds);
  auto not_utf8 =
      encode_directory_reply(Type::kGetVote, RefusedReply{RefusalReason::kLimit, "\xff"});
  ASSERT_FALSE(not_utf8);
  EXPECT_EQ(error_code(not_utf8.error()), DirectoryStreamErrc::kBadMessageText);
}

TEST(DirectoryReply, RetryAfterAtAndPastItsBounds) {
  for (std::uint16_t seconds : {kMinRetryAfterSeconds, kMaxRetryAfterSeconds}) {
    auto decoded =
        decode_directory_reply_at_fin(Type::kPostDescriptor, concat({1, 4}, be(seconds, 2)));
    ASSERT_TRUE(decoded) << seconds;
    EXPECT_EQ(std::get<BusyReply>(*decoded).retry_after_seconds, seconds);
  }
  for (std::uint16_t seconds :
       std::initializer_list<std::uint16_t>{0, kMaxRetryAfterSeconds + 1, 0xFFFF}) {
    expect_refused(Type::kPostDescriptor, concat({1, 4}, be(seconds, 2)),
                   DirectoryStreamErrc::kRetryAfterOutOfBounds);
    auto bytes = encode_directory_reply(Type::kPostDescriptor, BusyReply{seconds});
    ASSERT_FALSE(bytes);
    EXPECT_EQ(error_code(bytes.error()), DirectoryStreamErrc::kRetryAfterOutOfBounds);
  }
}

TEST(DirectoryReply, DocumentLengthsAtAndPastTheirBounds) {
  struct Case {
    Type type;
    std::size_t min;
    std::size_t max;
  };
  for (const Case& c : {Case{Type::kGetConsensus, kMinConsensus, kMaxConsensus},
                        Case{Type::kGetVote, kMinVote, kMaxVote}}) {
    for (std::size_t length : {c.min, c.max}) {
      auto bytes = concat({1, 0}, be(length, 4));
      bytes.resize(bytes.size() + length, 0x5A);
      auto decoded = decode_directory_reply_at_fin(c.type, bytes);
      ASSERT_TRUE(decoded) << length;
    }
    for (std::uint64_t length : {std::uint64_t{0}, std::uint64_t{c.min - 1},
                                 std::uint64_t{c.max + 1}, std::uint64_t{0xFFFFFFFF}}) {
      // Refused from the length field alone: nothing it announces is held.
      auto early = decode_directory_reply(c.type, concat({1, 0}, be(length, 4)));
      ASSERT_FALSE(early) << length;
      EXPECT_EQ(error_code(early.error()), DirectoryStreamErrc::kLengthOutOfBounds);
    }
    const std::vector<std::uint8_t> short_document(c.min - 1);
    auto bytes = c.type == Type::kGetVote
                     ? encode_directory_reply(c.type, VoteReply{short_document})
                     : encode_directory_reply(c.type, ConsensusReply{short_document});
    ASSERT_FALSE(bytes);
    EXPECT_EQ(error_code(bytes.error()), DirectoryStreamErrc::kLengthOutOfBounds);
  }
  EXPECT_EQ(kMaxDirectoryReply, 2 + 4 + kMaxDocument);
}

TEST(DirectoryReply, SignatureCountAtAndPastItsBounds) {
  for (std::size_t count : {std::size_t{1}, kMaxConsensusSignatures}) {
    const auto bytes = encoded(Type::kGetSignatures, signatures(count));
    auto decoded = decode_directory_reply_at_fin(Type::kGetSignatures, bytes);
    ASSERT_TRUE(decoded) << count;
    EXPECT_EQ(std::get<SignaturesReply>(*decoded).signatures.size(), count);
  }
  for (std::size_t count : {std::size_t{0}, kMaxConsensusSignatures + 1, std::size_t{255}}) {
    auto bytes = std::vector<std::uint8_t>{1, 0, static_cast<std::uint8_t>(count)};
    auto early = decode_directory_reply(Type::kGetSignatures, bytes);
    ASSERT_FALSE(early) << count;
    EXPECT_EQ(error_code(early.error()), DirectoryStreamErrc::kSignatureCount);
    auto encoder = encode_directory_reply(Type::kGetSignatures, signatures(count));
    ASSERT_FALSE(encoder);
    EXPECT_EQ(error_code(encoder.error()), DirectoryStreamErrc::kSignatureCount);
  }
}

TEST(DirectoryReply, SignaturesMustAscendStrictlyByKey) {
  SignaturesReply swapped = signatures(3);
  std::swap(swapped.signatures[0], swapped.signatures[2]);
  SignaturesReply duplicate = signatures(2);
  duplicate.signatures[1].authority_key = duplicate.signatures[0].authority_key;
  for (const SignaturesReply& bad : {swapped, duplicate}) {
    auto bytes = concat({1, 0, static_cast<std::uint8_t>(bad.signatures.size())}, {});
    for (const ConsensusSignature& s : bad.signatures) {
      bytes = concat(bytes, {s.authority_key.begin(), s.authority_key.end()});
      bytes = concat(bytes, {s.signature.begin(), s.signature.end()});
    }
    expect_refused(Type::kGetSignatures, bytes, DirectoryStreamErrc::kSignatureOrder);
    auto encoder = encode_directory_reply(Type::kGetSignatures, bad);
    ASSERT_FALSE(encoder);
    EXPECT_EQ(error_code(encoder.error()), DirectoryStreamErrc::kSignatureOrder);
  }
}

// Logs and metrics name a refusal as section 4.4 does; a reason outside the
// enum (a newer peer's) is "unknown", never a crash.
TEST(DirectoryReply, RefusalReasonsAreNamedAsTheProposalSpellsThem) {
  EXPECT_EQ(to_string(RefusalReason::kMalformed), "malformed");
  EXPECT_EQ(to_string(RefusalReason::kBadSignature), "bad_signature");
  EXPECT_EQ(to_string(RefusalReason::kWrongEpoch), "wrong_epoch");
  EXPECT_EQ(to_string(RefusalReason::kStale), "stale");
  EXPECT_EQ(to_string(RefusalReason::kUnreachable), "unreachable");
  EXPECT_EQ(to_string(RefusalReason::kNotAllowed), "not_allowed");
  EXPECT_EQ(to_string(RefusalReason::kLimit), "limit");
  EXPECT_EQ(to_string(RefusalReason::kNotAuthority), "not_authority");
  EXPECT_EQ(to_string(RefusalReason::kUnknownVoter), "unknown_voter");
  EXPECT_EQ(to_string(RefusalReason::kClock), "clock");
  EXPECT_EQ(to_string(static_cast<RefusalReason>(200)), "unknown");
}

}  // namespace
}  // namespace nyx::document
