#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/encoding.hpp"
#include "support/hex.hpp"

namespace nyx::crypto {
namespace {

using test::unhex;
using test::unhex_array;

struct Rfc8032Case {
  std::string_view seed;
  std::string_view public_key;
  std::string_view message;
  std::string_view signature;
};

// RFC 8032 §7.1, TEST 1, 2 and 3.
constexpr Rfc8032Case kCases[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
     "4"
     "6bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11"
     "d"
     "8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc"
     "6"
     "594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519, Rfc8032Vectors) {
  for (const auto& c : kCases) {
    const auto pair = Ed25519KeyPair::from_seed(unhex_array<32>(c.seed));
    EXPECT_EQ(to_hex(pair.public_key), c.public_key);
    EXPECT_EQ(to_hex(pair.seed()), c.seed);
    const auto message = unhex(c.message);
    const auto signature = pair.sign(message);
    EXPECT_EQ(to_hex(signature), c.signature);
    EXPECT_TRUE(ed25519_verify(pair.public_key, message, signature));
  }
}

TEST(Ed25519, AlteredMessageSignatureOrKeyFails) {
  const auto& c = kCases[2];
  const auto public_key = unhex_array<32>(c.public_key);
  const auto message = unhex(c.message);
  const auto signature = unhex_array<64>(c.signature);
  ASSERT_TRUE(ed25519_verify(public_key, message, signature));

  auto bad_message = message;
  bad_message[0] ^= 0x01;
  EXPECT_FALSE(ed25519_verify(public_key, bad_message, signature));
  EXPECT_FALSE(ed25519_verify(public_key, Bytes(message).first(1), signature));

  auto bad_signature = signature;
  bad_signature[40] ^= 0x04;
  EXPECT_FALSE(ed25519_verify(public_key, message, bad_signature));

  const auto other_key = unhex_array<32>(kCases[1].public_key);
  EXPECT_FALSE(ed25519_verify(other_key, message, signature));
}

TEST(Ed25519, GeneratedKeySignsAndVerifies) {
  const auto pair = Ed25519KeyPair::generate();
  const auto message = as_bytes("directory v1");
  const auto signature = pair.sign(message);
  EXPECT_TRUE(ed25519_verify(pair.public_key, message, signature));
  EXPECT_NE(pair.public_key, Ed25519KeyPair::generate().public_key);
}

}  // namespace
}  // namespace nyx::crypto
