#pragma once
// Test helpers: turn the hex strings of published test vectors into bytes
// (crypto::to_hex goes the other way).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/encoding.hpp"

namespace nyx::test {

inline std::vector<std::uint8_t> unhex(std::string_view text) {
  auto bytes = crypto::from_hex(text);
  EXPECT_TRUE(bytes.has_value()) << "bad hex in a test vector: " << text;
  return bytes.value_or(std::vector<std::uint8_t>{});
}

template <std::size_t N>
std::array<std::uint8_t, N> unhex_array(std::string_view text) {
  std::array<std::uint8_t, N> out{};
  const auto bytes = unhex(text);
  EXPECT_EQ(bytes.size(), N) << text;
  for (std::size_t i = 0; i < N && i < bytes.size(); ++i) {
    out[i] = bytes[i];
  }
  return out;
}

}  // namespace nyx::test
