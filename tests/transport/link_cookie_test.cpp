#include "transport/link_cookie.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "support/hex.hpp"

namespace nyx::transport {
namespace {

using namespace std::chrono_literals;

// Known answers from tests/transport/link_cookie_vectors.py (hashlib's
// BLAKE2b and a pure-Python XChaCha20-Poly1305, checked against the
// draft-irtf-cfrg-xchacha vectors), for its fixed inputs: S = 00 01 .. 1f,
// the init's first 56 bytes `01 00 00 00 01 02 03 04 40 41 .. 6f`, a reply to
// receiver_index 0x01020304 with nonce 80 81 .. 97 and cookie a0 a1 .. af.
// Regenerate with `python3 tests/transport/link_cookie_vectors.py`.
constexpr std::string_view kVectorMac1 = "8b8cb7979672174d41967a482fb0cd79";
constexpr std::string_view kVectorReply =
    "0600000001020304808182838485868788898a8b8c8d8e8f9091929394959697"
    "50104cdbadf6b09e5ea98b803c0bf9fb6024390bab77c27bef6c8cdc6284285a";
constexpr std::string_view kVectorMac2 = "02c721cab3b29a676b0e64f2b8c82afa";

constexpr std::size_t kCovered = 56;                            // a UDP init's bytes before mac1
constexpr std::size_t kInitMacsEnd = kCovered + kLinkMacsSize;  // 88

PeerKey vector_responder_key() {
  PeerKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(i);
  }
  return key;
}

PeerKey other_responder_key() {
  PeerKey key = vector_responder_key();
  key[31] ^= 0x80;
  return key;
}

// The first 88 bytes of a UDP init (everything mac2 covers, and mac2).
std::vector<std::uint8_t> init_message(std::uint32_t sender_index) {
  std::vector<std::uint8_t> m(kInitMacsEnd, 0);
  m[0] = 1;
  store_be32(m.data() + 4, sender_index);
  for (std::size_t i = 0; i < 48; ++i) {
    m[8 + i] = static_cast<std::uint8_t>(0x40 + i);
  }
  return m;
}

Bytes covered_by_mac1(const std::vector<std::uint8_t>& m) { return Bytes(m).first(kCovered); }
Bytes covered_by_mac2(const std::vector<std::uint8_t>& m) {
  return Bytes(m).first(kCovered + kLinkMacSize);
}
LinkMacView mac1_of(const std::vector<std::uint8_t>& m) {
  return LinkMacView(m.data() + kCovered, kLinkMacSize);
}
LinkMacView mac2_of(const std::vector<std::uint8_t>& m) {
  return LinkMacView(m.data() + kCovered + kLinkMacSize, kLinkMacSize);
}
std::vector<std::uint8_t> bytes_of(Bytes b) { return {b.begin(), b.end()}; }

CookieSource source(std::uint8_t last_octet, std::uint16_t port) {
  std::array<std::uint8_t, 16> address{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2};
  address[15] = last_octet;
  return cookie_source(address, port);
}

TEST(LinkCookieTest, Mac1MatchesTheIndependentImplementation) {
  CookieMaker maker(vector_responder_key());
  auto m = init_message(0x01020304);
  maker.add_macs(m, Nanos{0});
  EXPECT_EQ(bytes_of(mac1_of(m)), test::unhex(kVectorMac1));
  EXPECT_EQ(bytes_of(mac2_of(m)), std::vector<std::uint8_t>(kLinkMacSize, 0));
  EXPECT_TRUE(CookieChecker(vector_responder_key()).check_mac1(covered_by_mac1(m), mac1_of(m)));

  ASSERT_TRUE(maker.consume_reply(test::unhex(kVectorReply), Nanos{0}));
  maker.add_macs(m, Nanos{0});
  EXPECT_EQ(bytes_of(mac2_of(m)), test::unhex(kVectorMac2));
}

TEST(LinkCookieTest, Mac1PassesOnlyForTheRightKeyAndTheExactBytes) {
  CookieMaker maker(vector_responder_key());
  auto m = init_message(7);
  maker.add_macs(m, Nanos{0});
  const CookieChecker right(vector_responder_key());
  const CookieChecker wrong(other_responder_key());
  EXPECT_TRUE(right.check_mac1(covered_by_mac1(m), mac1_of(m)));
  EXPECT_FALSE(wrong.check_mac1(covered_by_mac1(m), mac1_of(m)));
  EXPECT_FALSE(right.check_mac1(covered_by_mac1(m).first(kCovered - 1), mac1_of(m)));

  for (std::size_t bit = 0; bit < (kCovered + kLinkMacSize) * 8; ++bit) {
    auto flipped = m;
    flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(right.check_mac1(covered_by_mac1(flipped), mac1_of(flipped))) << "bit " << bit;
  }
}

TEST(LinkCookieTest, Mac2PassesOnlyWithTheCookieOfTheSameSource) {
  CookieChecker checker(vector_responder_key());
  CookieMaker maker(vector_responder_key());
  const CookieSource from = source(1, 9340);
  auto m = init_message(7);
  maker.add_macs(m, Nanos{0});
  EXPECT_FALSE(maker.has_cookie(Nanos{0}));
  EXPECT_FALSE(checker.check_mac2(covered_by_mac2(m), from, mac2_of(m), Nanos{0}));

  const auto reply = checker.make_reply(7, mac1_of(m), from, Nanos{0});
  ASSERT_TRUE(maker.consume_reply(reply, Nanos{0}));
  maker.add_macs(m, Nanos{0});
  EXPECT_TRUE(maker.has_cookie(Nanos{0}));
  EXPECT_TRUE(checker.check_mac2(covered_by_mac2(m), from, mac2_of(m), Nanos{0}));
  EXPECT_FALSE(checker.check_mac2(covered_by_mac2(m), source(1, 9341), mac2_of(m), Nanos{0}));
  EXPECT_FALSE(checker.check_mac2(covered_by_mac2(m), source(2, 9340), mac2_of(m), Nanos{0}));
  // The cookie is the responder's, not the key's: another responder's R fails.
  CookieChecker other(vector_responder_key());
  EXPECT_FALSE(other.check_mac2(covered_by_mac2(m), from, mac2_of(m), Nanos{0}));
  auto flipped = m;
  flipped[8] ^= 1;
  EXPECT_FALSE(checker.check_mac2(covered_by_mac2(flipped), from, mac2_of(flipped), Nanos{0}));
}

TEST(LinkCookieTest, Mac2FailsOnceTheSecretHasRotatedTwice) {
  ManualClock clock;
  CookieChecker checker(vector_responder_key());
  CookieMaker maker(vector_responder_key());
  const CookieSource from = source(1, 9340);
  auto m = init_message(7);
  maker.add_macs(m, clock.now());
  ASSERT_TRUE(
      maker.consume_reply(checker.make_reply(7, mac1_of(m), from, clock.now()), clock.now()));
  maker.add_macs(m, clock.now());
  const auto sent = m;  // mac2 made under the first R

  clock.advance(119s);
  EXPECT_TRUE(checker.check_mac2(covered_by_mac2(sent), from, mac2_of(sent), clock.now()));
  clock.advance(11s);  // 130 s: R rotated once, the first R is the previous one
  EXPECT_TRUE(checker.check_mac2(covered_by_mac2(sent), from, mac2_of(sent), clock.now()));
  clock.advance(120s);  // 250 s: rotated again, the first R is gone
  EXPECT_FALSE(checker.check_mac2(covered_by_mac2(sent), from, mac2_of(sent), clock.now()));

  // The initiator stops using its cookie 120 s after receiving it.
  EXPECT_FALSE(maker.has_cookie(clock.now()));
  maker.add_macs(m, clock.now());
  EXPECT_EQ(bytes_of(mac2_of(m)), std::vector<std::uint8_t>(kLinkMacSize, 0));
}

TEST(LinkCookieTest, AReplyToAnotherInitOrAReplayIsRefused) {
  CookieChecker checker(vector_responder_key());
  CookieMaker maker(vector_responder_key());
  const CookieSource from = source(1, 9340);
  auto first = init_message(7);
  EXPECT_FALSE(maker.consume_reply(checker.make_reply(7, mac1_of(first), from, Nanos{0}),
                                   Nanos{0}));  // no init sent yet
  maker.add_macs(first, Nanos{0});
  const auto stale = checker.make_reply(7, mac1_of(first), from, Nanos{0});

  auto second = init_message(8);
  maker.add_macs(second, Nanos{0});
  EXPECT_FALSE(maker.consume_reply(stale, Nanos{0}));
  const auto fresh = checker.make_reply(8, mac1_of(second), from, Nanos{0});
  EXPECT_TRUE(maker.consume_reply(fresh, Nanos{0}));
  EXPECT_FALSE(maker.consume_reply(fresh, Nanos{0}));

  CookieMaker other(other_responder_key());  // cookie_key of another responder
  other.add_macs(second, Nanos{0});
  EXPECT_FALSE(other.consume_reply(fresh, Nanos{0}));
}

TEST(LinkCookieTest, ATamperedReplyIsRefused) {
  CookieChecker checker(vector_responder_key());
  CookieMaker maker(vector_responder_key());
  auto m = init_message(7);
  maker.add_macs(m, Nanos{0});
  const auto reply = checker.make_reply(7, mac1_of(m), source(1, 9340), Nanos{0});
  // receiver_index [4:8] is not authenticated: the caller matches it to its
  // handshake. Every other bit is.
  for (std::size_t bit = 0; bit < kCookieReplySize * 8; ++bit) {
    if (bit / 8 >= kCookieReplyIndexOffset && bit / 8 < kCookieReplyNonceOffset) {
      continue;
    }
    auto tampered = reply;
    tampered[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(maker.consume_reply(tampered, Nanos{0})) << "bit " << bit;
  }
  EXPECT_FALSE(maker.has_cookie(Nanos{0}));
  EXPECT_TRUE(maker.consume_reply(reply, Nanos{0}));
}

TEST(LinkCookieTest, ParseRefusesWrongSizeTypeAndReservedBytes) {
  const auto valid = test::unhex(kVectorReply);
  const auto reply = parse_cookie_reply(valid);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->receiver_index, 0x01020304u);
  EXPECT_EQ(bytes_of(reply->nonce), bytes_of(Bytes(valid).subspan(8, kCookieNonceSize)));
  EXPECT_EQ(bytes_of(reply->encrypted_cookie), bytes_of(Bytes(valid).subspan(32)));

  for (std::size_t size : {std::size_t{0}, std::size_t{4}, kCookieReplySize - 1,
                           kCookieReplySize + 1, std::size_t{1056}}) {
    std::vector<std::uint8_t> resized = valid;
    resized.resize(size, 0);
    EXPECT_FALSE(parse_cookie_reply(resized)) << size;
  }
  for (std::size_t at = 0; at < kCookieReplyIndexOffset; ++at) {
    auto wrong = valid;
    wrong[at] ^= 0x01;
    const auto parsed = parse_cookie_reply(wrong);
    ASSERT_FALSE(parsed) << at;
    EXPECT_EQ(parsed.error().category, ErrorCategory::kParse);
  }
}

TEST(LinkCookieTest, CookieSourceIsTheAddressThenThePortBigEndian) {
  EXPECT_EQ(bytes_of(source(1, 9340)), test::unhex("00000000000000000000ffffc0000201247c"));
}

}  // namespace
}  // namespace nyx::transport
