// Directory stream requests (proposal 0002 section 4.3): the example of the
// section, a round trip of every type carrying real documents, incremental
// decoding at every split point, and each refusal with its own error code,
// with every bound tried exactly at and one past it.
#include "document/directory_request.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "document/support/voting_fixtures.hpp"
#include "support/hex.hpp"

namespace nyx::document {
namespace {

using test::unhex;

std::vector<std::uint8_t> encoded(const DirectoryRequest& request) {
  auto bytes = encode_directory_request(request);
  EXPECT_TRUE(bytes) << bytes.error().to_string();
  return bytes.value_or(std::vector<std::uint8_t>{});
}

// One request of every type, each carrying what a real peer would send.
std::vector<DirectoryRequest> every_type() {
  const auto signature = SignatureMessage::make(
      test::signed_consensus({test::relay_entry(1, 10)}, {}), test::authority_key(1));
  EXPECT_TRUE(signature);
  const auto signature_bytes = *signature->encode();
  ConsensusDigest digest{};
  digest.fill(0xD1);
  return {
      GetConsensusRequest{489'000},
      PostDescriptorRequest{test::descriptor_bytes(1)},
      PostVoteRequest{test::encoded(test::signed_vote(1, {test::relay_entry(1, 10)}))},
      GetVoteRequest{test::kQ, test::authority_key(2).public_key},
      PostSignatureRequest{signature_bytes},
      GetSignaturesRequest{test::kQ, digest},
  };
}

DirectoryStreamErrc error_code(const Error& error) {
  return static_cast<DirectoryStreamErrc>(error.code);
}

// The request is refused at FIN with `code`, and so is it while it arrives.
void expect_refused(const std::vector<std::uint8_t>& bytes, DirectoryStreamErrc code) {
  auto at_fin = decode_directory_request_at_fin(bytes);
  ASSERT_FALSE(at_fin) << "accepted";
  EXPECT_EQ(at_fin.error().category, ErrorCategory::kParse);
  EXPECT_EQ(error_code(at_fin.error()), code) << at_fin.error().message;
  EXPECT_NE(at_fin.error().message.find("directory request: "), std::string::npos);
}

// Header, then the length field of a POST_DESCRIPTOR (2 bytes) or POST_VOTE (4).
std::vector<std::uint8_t> length_prefix(DirectoryRequestType type, std::uint64_t length) {
  std::vector<std::uint8_t> out{kDirectoryStreamVersion, static_cast<std::uint8_t>(type)};
  const int width = type == DirectoryRequestType::kPostDescriptor ? 2 : 4;
  for (int i = width - 1; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
  }
  return out;
}

std::vector<std::uint8_t> with_body(std::vector<std::uint8_t> prefix, std::size_t body) {
  prefix.resize(prefix.size() + body, 0x5A);
  return prefix;
}

TEST(DirectoryRequest, ExampleOfSection43) {
  const auto bytes = encoded(GetConsensusRequest{0x77628});
  EXPECT_EQ(bytes, unhex("01010000000000077628"));
  auto decoded = decode_directory_request_at_fin(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<GetConsensusRequest>(*decoded).have_period, 489'000u);
}

TEST(DirectoryRequest, EveryTypeRoundTrips) {
  for (const DirectoryRequest& request : every_type()) {
    const auto bytes = encoded(request);
    ASSERT_GE(bytes.size(), 2u);
    EXPECT_EQ(bytes[0], 1);
    EXPECT_EQ(bytes[1], static_cast<std::uint8_t>(request_type(request)));
    auto decoded = decode_directory_request_at_fin(bytes);
    ASSERT_TRUE(decoded) << decoded.error().to_string();
    EXPECT_EQ(*decoded, request);
    EXPECT_EQ(encoded(*decoded), bytes);
  }
}

TEST(DirectoryRequest, FixedLayouts) {
  const auto all = every_type();
  EXPECT_EQ(encoded(all[0]).size(), 2u + 8);
  EXPECT_EQ(encoded(all[1]).size(), 2u + 2 + test::descriptor_bytes(1).size());
  EXPECT_EQ(encoded(all[3]).size(), 2u + 8 + 32);
  EXPECT_EQ(encoded(all[4]).size(), 2u + 147);
  EXPECT_EQ(encoded(all[5]).size(), 2u + 8 + 32);
  const auto get_vote = encoded(all[3]);
  EXPECT_EQ(get_vote[2 + 7], static_cast<std::uint8_t>(test::kQ & 0xff));
  EXPECT_EQ(get_vote[2 + 8], test::authority_key(2).public_key[0]);
}

// Every prefix is "need more" (never a value, never an error) and at FIN is
// truncated; the hint never asks past the end; following the hints from
// nothing reaches the request.
TEST(DirectoryRequest, IncompleteAtEverySplitPoint) {
  for (const DirectoryRequest& request : every_type()) {
    const auto bytes = encoded(request);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      const Bytes prefix(bytes.data(), cut);
      auto progress = decode_directory_request(prefix);
      ASSERT_TRUE(progress) << "cut " << cut << ": " << progress.error().message;
      const auto* need = std::get_if<NeedMore>(&*progress);
      ASSERT_NE(need, nullptr) << "cut " << cut;
      EXPECT_GT(need->bytes, 0u);
      EXPECT_LE(cut + need->bytes, bytes.size()) << "cut " << cut;
      auto at_fin = decode_directory_request_at_fin(prefix);
      ASSERT_FALSE(at_fin);
      EXPECT_EQ(error_code(at_fin.error()), DirectoryStreamErrc::kTruncated);
    }
    std::size_t have = 0;
    int reads = 0;
    for (;;) {
      auto progress = decode_directory_request(Bytes(bytes.data(), have));
      ASSERT_TRUE(progress);
      if (const auto* need = std::get_if<NeedMore>(&*progress)) {
        have += need->bytes;
        ++reads;
        continue;
      }
      const auto& done = std::get<Decoded<DirectoryRequest>>(*progress);
      EXPECT_EQ(done.consumed, bytes.size());
      EXPECT_EQ(done.value, request);
      break;
    }
    EXPECT_LE(reads, 3);  // header, length field, body
  }
}

TEST(DirectoryRequest, BytesAfterTheRequestAreRefused) {
  for (const DirectoryRequest& request : every_type()) {
    auto bytes = encoded(request);
    const std::size_t size = bytes.size();
    bytes.push_back(0);
    auto progress = decode_directory_request(bytes);
    ASSERT_TRUE(progress);
    EXPECT_EQ(std::get<Decoded<DirectoryRequest>>(*progress).consumed, size);
    expect_refused(bytes, DirectoryStreamErrc::kTrailingBytes);
  }
}

TEST(DirectoryRequest, OtherVersionsAreRefused) {
  for (std::uint8_t version : std::initializer_list<std::uint8_t>{0, 2, 0xFF}) {
    auto bytes = encoded(GetConsensusRequest{1});
    bytes[0] = version;
    expect_refused(bytes, DirectoryStreamErrc::kBadVersion);
    // Known from the first two bytes, before the rest has arrived.
    EXPECT_FALSE(decode_directory_request(Bytes(bytes.data(), 2)));
  }
}

TEST(DirectoryRequest, UnknownTypesAreRefused) {
  for (std::uint8_t type : std::initializer_list<std::uint8_t>{0, 7, 0xD0, 0xFF}) {
    std::vector<std::uint8_t> bytes{1, type, 0, 0, 0, 0, 0, 0, 0, 1};
    expect_refused(bytes, DirectoryStreamErrc::kUnknownType);
    EXPECT_FALSE(decode_directory_request(Bytes(bytes.data(), 2)));
  }
}

TEST(DirectoryRequest, DescriptorLengthAtAndPastItsBounds) {
  const auto type = DirectoryRequestType::kPostDescriptor;
  for (std::size_t length : {kMinDescriptor, kMaxDescriptor}) {
    auto decoded = decode_directory_request_at_fin(with_body(length_prefix(type, length), length));
    ASSERT_TRUE(decoded) << length;
    EXPECT_EQ(std::get<PostDescriptorRequest>(*decoded).descriptor.size(), length);
  }
  for (std::size_t length :
       {std::size_t{0}, kMinDescriptor - 1, kMaxDescriptor + 1, std::size_t{0xFFFF}}) {
    // Refused from the length field alone, before any of the body arrives.
    auto early = decode_directory_request(length_prefix(type, length));
    ASSERT_FALSE(early) << length;
    EXPECT_EQ(error_code(early.error()), DirectoryStreamErrc::kLengthOutOfBounds);
    expect_refused(with_body(length_prefix(type, length), length),
                   DirectoryStreamErrc::kLengthOutOfBounds);
  }
}

TEST(DirectoryRequest, VoteLengthAtAndPastItsBounds) {
  const auto type = DirectoryRequestType::kPostVote;
  for (std::size_t length : {kMinVote, kMaxVote}) {
    auto decoded = decode_directory_request_at_fin(with_body(length_prefix(type, length), length));
    ASSERT_TRUE(decoded) << length;
    EXPECT_EQ(std::get<PostVoteRequest>(*decoded).vote.size(), length);
  }
  for (std::uint64_t length : {std::uint64_t{0}, std::uint64_t{kMinVote - 1},
                               std::uint64_t{kMaxVote + 1}, std::uint64_t{0xFFFFFFFF}}) {
    auto early = decode_directory_request(length_prefix(type, length));
    ASSERT_FALSE(early) << length;
    EXPECT_EQ(error_code(early.error()), DirectoryStreamErrc::kLengthOutOfBounds);
  }
  expect_refused(with_body(length_prefix(type, kMinVote - 1), kMinVote - 1),
                 DirectoryStreamErrc::kLengthOutOfBounds);
  EXPECT_EQ(kMaxDirectoryRequest, 2 + 4 + kMaxDocument);
}

TEST(DirectoryRequest, EncoderRefusesDocumentsOutOfBounds) {
  const std::vector<DirectoryRequest> bad = {
      PostDescriptorRequest{std::vector<std::uint8_t>(kMinDescriptor - 1)},
      PostDescriptorRequest{std::vector<std::uint8_t>(kMaxDescriptor + 1)},
      PostVoteRequest{std::vector<std::uint8_t>(kMinVote - 1)},
      PostVoteRequest{std::vector<std::uint8_t>(kMaxVote + 1)},
  };
  for (const DirectoryRequest& request : bad) {
    auto bytes = encode_directory_request(request);
    ASSERT_FALSE(bytes);
    EXPECT_EQ(bytes.error().category, ErrorCategory::kInvalidArgument);
    EXPECT_EQ(error_code(bytes.error()), DirectoryStreamErrc::kLengthOutOfBounds);
  }
}

TEST(DirectoryRequest, TimeoutsOfSection45) {
  EXPECT_EQ(request_timeout(DirectoryRequestType::kPostVote), std::chrono::seconds(60));
  EXPECT_EQ(request_timeout(DirectoryRequestType::kGetConsensus), std::chrono::seconds(10));
  EXPECT_EQ(request_timeout(DirectoryRequestType::kPostDescriptor), std::chrono::seconds(10));
}

}  // namespace
}  // namespace nyx::document
