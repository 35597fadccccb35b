// The per-thread pool of random bytes (core/crypto/random_pool.hpp).

#include "core/crypto/random_pool.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace nyx::crypto {
namespace {

TEST(RandomPool, UniformOfOneIsZero) {
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(pooled_random_uniform(1), 0u);
  }
}

TEST(RandomPool, UniformStaysBelowTheBound) {
  for (const std::uint32_t bound :
       {2u, 3u, 7u, 2048u, 1'000'003u, std::numeric_limits<std::uint32_t>::max()}) {
    for (int i = 0; i < 1000; ++i) {
      ASSERT_LT(pooled_random_uniform(bound), bound) << bound;
    }
  }
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 400; ++i) {
    seen.insert(pooled_random_uniform(6));
  }
  EXPECT_EQ(seen.size(), 6u);  // each value missed with probability (5/6)^400
}

TEST(RandomPool, BytesDifferBetweenCalls) {
  std::array<std::uint8_t, 32> a{};
  std::array<std::uint8_t, 32> b{};
  pooled_random_bytes(a);
  pooled_random_bytes(b);
  EXPECT_NE(a, b);  // fails with probability 2^-256
  EXPECT_NE(a, (std::array<std::uint8_t, 32>{}));
}

// Requests beyond the pool's 4 KiB refill it as often as needed and fill the
// whole buffer: every 16-byte piece of it is random, none left zero.
TEST(RandomPool, LargeRequestsWork) {
  for (const std::size_t size : {std::size_t{4095}, std::size_t{4097}, std::size_t{10000}}) {
    std::vector<std::uint8_t> first(size, 0);
    std::vector<std::uint8_t> second(size, 0);
    pooled_random_bytes(first);
    pooled_random_bytes(second);
    EXPECT_NE(first, second) << size;
    std::size_t zero_pieces = 0;
    for (std::size_t at = 0; at + 16 <= size; at += 16) {
      bool all_zero = true;
      for (std::size_t i = at; i < at + 16; ++i) {
        all_zero = all_zero && first[i] == 0;
      }
      if (all_zero) {
        ++zero_pieces;
      }
    }
    EXPECT_EQ(zero_pieces, 0u) << size;
  }
}

}  // namespace
}  // namespace nyx::crypto
