#include <array>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/chacha20.hpp"
#include "core/crypto/encoding.hpp"
#include "support/hex.hpp"
#include "support/rfc8439.hpp"

namespace nyx::crypto {
namespace {

using test::unhex;
using test::unhex_array;

using test::kSunscreen;

std::array<std::uint8_t, 32> counting_key() {
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(i);
  }
  return key;
}

// RFC 8439 §2.3.2: the block function, seen as the keystream XORed onto zeros.
TEST(ChaCha20, Rfc8439BlockFunction) {
  const auto nonce = unhex_array<12>("000000090000004a00000000");
  std::array<std::uint8_t, 64> zeros{};
  std::array<std::uint8_t, 64> block{};
  chacha20_xor(counting_key(), nonce, 1, zeros, block);
  EXPECT_EQ(to_hex(block),
            "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
            "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
}

// RFC 8439 §2.4.2: encryption of the sunscreen text from block counter 1.
TEST(ChaCha20, Rfc8439Encryption) {
  const auto nonce = unhex_array<12>("000000000000004a00000000");
  const Bytes plaintext = as_bytes(kSunscreen);
  std::vector<std::uint8_t> ciphertext(plaintext.size());
  chacha20_xor(counting_key(), nonce, 1, plaintext, ciphertext);
  EXPECT_EQ(to_hex(ciphertext),
            "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
            "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
            "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
            "5af90bbf74a35be6b40b8eedf2785e42874d");
}

TEST(ChaCha20, InPlaceEqualsOutOfPlaceAndRoundTrips) {
  const auto nonce = unhex_array<12>("000000000000004a00000000");
  const Bytes plaintext = as_bytes(kSunscreen);
  std::vector<std::uint8_t> out(plaintext.size());
  chacha20_xor(counting_key(), nonce, 7, plaintext, out);

  std::vector<std::uint8_t> buffer(plaintext.begin(), plaintext.end());
  chacha20_xor(counting_key(), nonce, 7, buffer, buffer);
  EXPECT_EQ(buffer, out);

  chacha20_xor(counting_key(), nonce, 7, buffer, buffer);
  EXPECT_EQ(buffer, std::vector<std::uint8_t>(plaintext.begin(), plaintext.end()));
}

TEST(ChaCha20, EmptyInputIsANoOp) {
  const auto nonce = unhex_array<12>("000000000000004a00000000");
  chacha20_xor(counting_key(), nonce, 0, {}, {});
}

TEST(ChaCha20, CounterSelectsTheBlock) {
  const auto nonce = unhex_array<12>("000000090000004a00000000");
  std::array<std::uint8_t, 128> zeros{};
  std::array<std::uint8_t, 128> from0{};
  std::array<std::uint8_t, 64> from1{};
  chacha20_xor(counting_key(), nonce, 0, zeros, from0);
  chacha20_xor(counting_key(), nonce, 1, Bytes(zeros).first(64), from1);
  EXPECT_EQ(to_hex(Bytes(from0).subspan(64)), to_hex(from1));
}

}  // namespace
}  // namespace nyx::crypto
