#include <array>
#include <cstdint>

#include <gtest/gtest.h>

#include "core/crypto/siphash.hpp"

namespace nyx::crypto {
namespace {

std::array<std::uint8_t, kSipHashKeySize> reference_key() {
  std::array<std::uint8_t, kSipHashKeySize> key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(i);
  }
  return key;
}

// The SipHash paper's test vectors (Aumasson and Bernstein, appendix A):
// key 00..0f, message 00..(n-1).
TEST(SipHash, ReferenceVectors) {
  const auto key = reference_key();
  std::array<std::uint8_t, 15> message{};
  for (std::size_t i = 0; i < message.size(); ++i) {
    message[i] = static_cast<std::uint8_t>(i);
  }
  EXPECT_EQ(siphash24(key, Bytes{message}), 0xa129ca6149be45e5ULL);
  EXPECT_EQ(siphash24(key, Bytes{}), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(siphash24(key, Bytes{message}.first(8)), 0x93f5f5799a932462ULL);
}

TEST(SipHash, KeyChangesOutput) {
  auto key = reference_key();
  const std::array<std::uint8_t, 8> message{1, 2, 3, 4, 5, 6, 7, 8};
  const std::uint64_t before = siphash24(key, Bytes{message});
  key[0] ^= 1;
  EXPECT_NE(siphash24(key, Bytes{message}), before);
}

}  // namespace
}  // namespace nyx::crypto
