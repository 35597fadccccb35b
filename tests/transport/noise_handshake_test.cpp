// Noise_XK_25519_ChaChaPoly_BLAKE2b against the cacophony test vectors
// (haskell-cryptography/cacophony, vectors/cacophony.txt), and the handshake's
// failure modes.

#include "transport/noise_handshake.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/x25519.hpp"
#include "support/hex.hpp"

namespace nyx::transport {
namespace {

using nyx::test::unhex;

struct Message {
  const char* payload;
  const char* ciphertext;
};

// Noise_XK_25519_ChaChaPoly_BLAKE2b from cacophony.txt.
constexpr const char* kPrologue = "4a6f686e2047616c74";
constexpr const char* kInitStatic =
    "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
constexpr const char* kInitEphemeral =
    "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
constexpr const char* kRespStatic =
    "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
constexpr const char* kRespEphemeral =
    "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
constexpr const char* kRespStaticPublic =
    "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62";
constexpr Message kMessages[] = {
    {"4c756477696720766f6e204d69736573",
     "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79442806e28405ac4325fcf836074894"
     "96d6d326ab3fe084dbb1634f801405a69297"},
    {"4d757272617920526f746862617264",
     "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f1448088430ea4de2eff2cd3b1e7be5f7e792d"
     "87395f0863722ab04ec030529d6c5820de"},
    {"462e20412e20486179656b",
     "ec9136de99472b49eda3ba9fe84882d48f131b27386784b3f45e9f103ad1b6efa2f2e95f0afce5d0d4c8052aed81"
     "438500be54a8fd8dd4f5ba04f7907b312701d0d687716a30b23c22f568"},
    {"4361726c204d656e676572", "d6ea0c3364ed480b415d44c3235fdb311dfa8d6e1dc1e6f3a76ee3"},
    {"4a65616e2d426170746973746520536179",
     "59f41ca9ea14a8305bae379bbdd8b4d5cf9bd308d2d7e042e2bf03c48dd910b37b"},
    {"457567656e2042f6686d20766f6e2042617765726b",
     "fa23ba8af343a3934c64219d3d0206d66894f7cdb180b738324608e15b0102095ed2f44d4b"},
};

crypto::X25519KeyPair key_from_hex(const char* hex) {
  const auto bytes = unhex(hex);
  return crypto::X25519KeyPair::from_secret(std::span<const std::uint8_t, 32>(bytes.data(), 32));
}

TEST(NoiseHandshakeTest, MatchesCacophonyVectors) {
  const auto prologue = unhex(kPrologue);
  const auto init_e = unhex(kInitEphemeral);
  const auto resp_e = unhex(kRespEphemeral);
  const auto init_s = key_from_hex(kInitStatic);
  const auto resp_s = key_from_hex(kRespStatic);
  PeerKey rs{};
  const auto rs_bytes = unhex(kRespStaticPublic);
  std::copy(rs_bytes.begin(), rs_bytes.end(), rs.begin());
  ASSERT_EQ(resp_s.public_key, rs);

  auto initiator = NoiseHandshake::initiator(init_s, rs, prologue, Bytes(init_e));
  auto responder = NoiseHandshake::responder(resp_s, prologue, Bytes(resp_e));

  std::vector<std::uint8_t> wire(256);
  std::vector<std::uint8_t> payload(256);
  for (int i = 0; i < 3; ++i) {
    NoiseHandshake& writer = (i % 2 == 0) ? initiator : responder;
    NoiseHandshake& reader = (i % 2 == 0) ? responder : initiator;
    const auto expected_payload = unhex(kMessages[i].payload);
    auto written = writer.write_message(expected_payload, wire);
    ASSERT_TRUE(written) << written.error().to_string();
    EXPECT_EQ(crypto::to_hex(Bytes(wire).first(*written)), kMessages[i].ciphertext)
        << "message " << i;
    auto read = reader.read_message(Bytes(wire).first(*written), payload);
    ASSERT_TRUE(read) << read.error().to_string();
    EXPECT_EQ(std::vector<std::uint8_t>(payload.begin(),
                                        payload.begin() + static_cast<std::ptrdiff_t>(*read)),
              expected_payload);
  }
  ASSERT_TRUE(initiator.complete());
  ASSERT_TRUE(responder.complete());
  EXPECT_EQ(responder.remote_static(), init_s.public_key);
  EXPECT_EQ(initiator.handshake_hash(), responder.handshake_hash());

  auto init_keys = initiator.split();
  auto resp_keys = responder.split();
  // Transport messages alternate, the responder first (cacophony's order).
  for (int i = 3; i < 6; ++i) {
    const bool from_responder = (i % 2 == 1);
    NoiseCipherState& sender = from_responder ? resp_keys.send : init_keys.send;
    NoiseCipherState& receiver = from_responder ? init_keys.receive : resp_keys.receive;
    const auto plain = unhex(kMessages[i].payload);
    std::vector<std::uint8_t> sealed(plain.size() + 16);
    ASSERT_TRUE(sender.encrypt_with_ad({}, plain, sealed));
    EXPECT_EQ(crypto::to_hex(sealed), kMessages[i].ciphertext) << "message " << i;
    std::vector<std::uint8_t> opened(plain.size());
    ASSERT_TRUE(receiver.decrypt_with_ad({}, sealed, opened));
    EXPECT_EQ(opened, plain);
  }
}

TEST(NoiseHandshakeTest, WrongResponderKeyFailsAtResponder) {
  const auto initiator_key = crypto::X25519KeyPair::generate();
  const auto responder_key = crypto::X25519KeyPair::generate();
  const auto other_key = crypto::X25519KeyPair::generate();
  auto initiator =
      NoiseHandshake::initiator(initiator_key, other_key.public_key, as_bytes(kLinkPrologue));
  auto responder = NoiseHandshake::responder(responder_key, as_bytes(kLinkPrologue));
  std::vector<std::uint8_t> wire(128);
  auto written = initiator.write_message({}, wire);
  ASSERT_TRUE(written);
  std::vector<std::uint8_t> payload(16);
  auto read = responder.read_message(Bytes(wire).first(*written), payload);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().category, ErrorCategory::kCrypto);
  EXPECT_TRUE(responder.failed());
}

TEST(NoiseHandshakeTest, DifferentProloguesDoNotAgree) {
  const auto initiator_key = crypto::X25519KeyPair::generate();
  const auto responder_key = crypto::X25519KeyPair::generate();
  auto initiator = NoiseHandshake::initiator(initiator_key, responder_key.public_key,
                                             as_bytes(std::string_view("nyx-link-v0")));
  auto responder = NoiseHandshake::responder(responder_key, as_bytes(kLinkPrologue));
  std::vector<std::uint8_t> wire(128);
  std::vector<std::uint8_t> payload(16);
  auto written = initiator.write_message({}, wire);
  ASSERT_TRUE(written);
  EXPECT_FALSE(responder.read_message(Bytes(wire).first(*written), payload));
}

TEST(NoiseHandshakeTest, OutOfTurnAndTruncatedMessagesFail) {
  const auto initiator_key = crypto::X25519KeyPair::generate();
  const auto responder_key = crypto::X25519KeyPair::generate();
  auto responder = NoiseHandshake::responder(responder_key, as_bytes(kLinkPrologue));
  std::vector<std::uint8_t> wire(128);
  EXPECT_FALSE(responder.write_message({}, wire));  // initiator speaks first
  auto initiator =
      NoiseHandshake::initiator(initiator_key, responder_key.public_key, as_bytes(kLinkPrologue));
  auto written = initiator.write_message({}, wire);
  ASSERT_TRUE(written);
  std::vector<std::uint8_t> payload(16);
  EXPECT_FALSE(responder.read_message(Bytes(wire).first(*written - 1), payload));
  EXPECT_TRUE(responder.failed());
}

TEST(NoiseHandshakeTest, TamperedMessageThreeFailsAndRemoteStaticIsAuthenticated) {
  const auto initiator_key = crypto::X25519KeyPair::generate();
  const auto responder_key = crypto::X25519KeyPair::generate();
  auto initiator =
      NoiseHandshake::initiator(initiator_key, responder_key.public_key, as_bytes(kLinkPrologue));
  auto responder = NoiseHandshake::responder(responder_key, as_bytes(kLinkPrologue));
  std::vector<std::uint8_t> wire(128);
  std::vector<std::uint8_t> payload(16);
  auto n1 = initiator.write_message({}, wire);
  ASSERT_TRUE(n1 && responder.read_message(Bytes(wire).first(*n1), payload));
  auto n2 = responder.write_message({}, wire);
  ASSERT_TRUE(n2 && initiator.read_message(Bytes(wire).first(*n2), payload));
  auto n3 = initiator.write_message({}, wire);
  ASSERT_TRUE(n3);
  EXPECT_EQ(*n3, NoiseHandshake::kMessage3Size);
  wire[5] ^= 0x01;  // inside the encrypted static key
  EXPECT_FALSE(responder.read_message(Bytes(wire).first(*n3), payload));
  EXPECT_FALSE(responder.complete());
}

}  // namespace
}  // namespace nyx::transport
