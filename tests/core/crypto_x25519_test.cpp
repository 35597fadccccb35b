#include <array>

#include <gtest/gtest.h>

#include "core/crypto/encoding.hpp"
#include "core/crypto/x25519.hpp"
#include "support/hex.hpp"

namespace nyx::crypto {
namespace {

using test::unhex_array;

std::string dh_hex(std::string_view scalar, std::string_view u) {
  std::array<std::uint8_t, 32> out{};
  EXPECT_TRUE(x25519(out, unhex_array<32>(scalar), unhex_array<32>(u)));
  return to_hex(out);
}

// RFC 7748 §5.2 (scalars unclamped, second u with its top bit set).
TEST(X25519, Rfc7748FunctionVectors) {
  EXPECT_EQ(dh_hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                   "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  EXPECT_EQ(dh_hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                   "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

// RFC 7748 §6.1: Alice and Bob.
TEST(X25519, Rfc7748DiffieHellman) {
  const auto alice = X25519KeyPair::from_secret(
      unhex_array<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  const auto bob = X25519KeyPair::from_secret(
      unhex_array<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  EXPECT_EQ(to_hex(alice.public_key),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(to_hex(bob.public_key),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");

  std::array<std::uint8_t, 32> shared_a{};
  std::array<std::uint8_t, 32> shared_b{};
  ASSERT_TRUE(x25519(shared_a, alice.secret.span(), bob.public_key));
  ASSERT_TRUE(x25519(shared_b, bob.secret.span(), alice.public_key));
  EXPECT_EQ(to_hex(shared_a), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(shared_a, shared_b);
}

TEST(X25519, GeneratedPairsAgree) {
  const auto a = X25519KeyPair::generate();
  const auto b = X25519KeyPair::generate();
  EXPECT_NE(a.public_key, b.public_key);
  std::array<std::uint8_t, 32> expected_public{};
  x25519_base(expected_public, a.secret.span());
  EXPECT_EQ(expected_public, a.public_key);

  std::array<std::uint8_t, 32> ab{};
  std::array<std::uint8_t, 32> ba{};
  ASSERT_TRUE(x25519(ab, a.secret.span(), b.public_key));
  ASSERT_TRUE(x25519(ba, b.secret.span(), a.public_key));
  EXPECT_EQ(ab, ba);
}

// Points of small order (RFC 7748 §6.1 "check for the all-zero value"): the
// identity, the point of order 2 and one of order 8.
TEST(X25519, LowOrderPointsAreRejected) {
  const auto pair = X25519KeyPair::generate();
  for (const auto* point : {"0000000000000000000000000000000000000000000000000000000000000000",
                            "0100000000000000000000000000000000000000000000000000000000000000",
                            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"}) {
    std::array<std::uint8_t, 32> out{};
    out.fill(0xaa);
    const auto status = x25519(out, pair.secret.span(), unhex_array<32>(point));
    ASSERT_FALSE(status) << point;
    EXPECT_EQ(status.error().category, ErrorCategory::kCrypto);
    EXPECT_EQ(out, (std::array<std::uint8_t, 32>{})) << point;
  }
}

}  // namespace
}  // namespace nyx::crypto
