#include <array>
#include <set>

#include <gtest/gtest.h>

#include "core/crypto/compare.hpp"
#include "core/crypto/random.hpp"

namespace nyx::crypto {
namespace {

TEST(Random, BytesDiffer) {
  std::array<std::uint8_t, 32> a{};
  std::array<std::uint8_t, 32> b{};
  random_bytes(a);
  random_bytes(b);
  EXPECT_NE(a, b);  // fails with probability 2^-256
  EXPECT_NE(a, (std::array<std::uint8_t, 32>{}));
}

TEST(Random, U64Differs) { EXPECT_NE(random_u64(), random_u64()); }

TEST(Random, UniformStaysBelowTheBoundAndCoversIt) {
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 400; ++i) {
    const auto value = random_uniform(6);
    ASSERT_LT(value, 6u);
    seen.insert(value);
  }
  EXPECT_EQ(seen.size(), 6u);  // each value missed with probability (5/6)^400
  EXPECT_EQ(random_uniform(1), 0u);
  EXPECT_EQ(random_uniform(0), 0u);
}

TEST(CtEqual, ComparesContentsAndLengths) {
  const std::array<std::uint8_t, 4> a{1, 2, 3, 4};
  std::array<std::uint8_t, 4> b{1, 2, 3, 4};
  EXPECT_TRUE(ct_equal(a, b));
  b[3] = 5;
  EXPECT_FALSE(ct_equal(a, b));
  b = {0, 2, 3, 4};
  EXPECT_FALSE(ct_equal(a, b));
  EXPECT_FALSE(ct_equal(a, Bytes(a).first(3)));
  EXPECT_TRUE(ct_equal({}, {}));
}

}  // namespace
}  // namespace nyx::crypto
