#include <array>
#include <ostream>
#include <type_traits>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/secret.hpp"
#include "core/crypto/x25519.hpp"

namespace nyx::crypto {
namespace {

template <class T>
concept Streamable = requires(std::ostream& os, const T& value) { os << value; };

// The rule of core/log.hpp, checked by the compiler: no secret type can be
// formatted or streamed, not even through fmt/ranges.h (they have no
// begin()/end()), and none can be copied by accident.
static_assert(!fmt::is_formattable<SecretBytes<32>>::value);
static_assert(!fmt::is_formattable<EphemeralSecret<32>>::value);
static_assert(!fmt::is_formattable<X25519KeyPair>::value);
static_assert(!fmt::is_formattable<Ed25519KeyPair>::value);
static_assert(!Streamable<SecretBytes<32>>);
static_assert(!Streamable<EphemeralSecret<32>>);
static_assert(!std::is_copy_constructible_v<SecretBytes<32>>);
static_assert(!std::is_copy_assignable_v<SecretBytes<32>>);
static_assert(!std::is_copy_constructible_v<EphemeralSecret<32>>);
static_assert(!std::is_copy_assignable_v<EphemeralSecret<32>>);
static_assert(!std::is_copy_constructible_v<X25519KeyPair>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes<32>>);
static_assert(std::is_nothrow_move_constructible_v<EphemeralSecret<32>>);
// Public keys, by contrast, are plain arrays and may be printed.
static_assert(fmt::is_formattable<X25519PublicKey>::value);

template <std::size_t N>
std::array<std::uint8_t, N> counting() {
  std::array<std::uint8_t, N> a{};
  for (std::size_t i = 0; i < N; ++i) {
    a[i] = static_cast<std::uint8_t>(i + 1);
  }
  return a;
}

TEST(SecretBytes, StartsZeroAndHoldsWhatItIsGiven) {
  const SecretBytes<16> zero;
  EXPECT_EQ(std::vector<std::uint8_t>(zero.span().begin(), zero.span().end()),
            std::vector<std::uint8_t>(16, 0));
  const auto bytes = counting<16>();
  const auto secret = SecretBytes<16>::from(bytes);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), secret.data()));
  EXPECT_EQ(secret.size(), 16u);
}

TEST(SecretBytes, MoveTransfersOwnership) {
  const auto bytes = counting<32>();
  auto a = SecretBytes<32>::from(bytes);
  const std::uint8_t* memory = a.data();
  SecretBytes<32> b = std::move(a);
  EXPECT_EQ(b.data(), memory);  // no copy of the key was made
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), b.data()));
  SecretBytes<32> c;
  c = std::move(b);
  EXPECT_EQ(c.data(), memory);
}

TEST(SecretBytes, RandomDiffersAndTryFromChecksTheSize) {
  const auto a = SecretBytes<32>::random();
  const auto b = SecretBytes<32>::random();
  EXPECT_FALSE(std::equal(a.data(), a.data() + a.size(), b.data()));  // 2^-256 to fail
  const auto bytes = counting<31>();
  const auto wrong = SecretBytes<32>::try_from(bytes);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().category, ErrorCategory::kInvalidArgument);
  EXPECT_TRUE(SecretBytes<31>::try_from(bytes));
}

TEST(SecretBytesDeathTest, FromWithTheWrongSizeStops) {
  const auto bytes = counting<31>();
  EXPECT_DEATH(SecretBytes<32>::from(bytes), "wrong size");
}

TEST(SecretBytes, WritableThroughMutableSpan) {
  SecretBytes<8> secret;
  secret.mutable_span()[7] = 0x42;
  EXPECT_EQ(secret.span()[7], 0x42);
}

TEST(EphemeralSecret, MovedFromIsZeroed) {
  const auto bytes = counting<32>();
  auto a = EphemeralSecret<32>::from(bytes);
  EphemeralSecret<32> b = std::move(a);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), b.data()));
  // Reading a moved-from object is deliberate: its bytes must be gone.
  EXPECT_EQ(std::count(a.data(), a.data() + a.size(), 0), 32);  // NOLINT(bugprone-use-after-move)
  EphemeralSecret<32> c;
  c = std::move(b);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), c.data()));
  EXPECT_EQ(std::count(b.data(), b.data() + b.size(), 0), 32);  // NOLINT(bugprone-use-after-move)
}

TEST(SecureZero, ZeroesExactlyTheSpan) {
  std::array<std::uint8_t, 8> bytes{1, 2, 3, 4, 5, 6, 7, 8};
  secure_zero(MutableBytes(bytes).subspan(2, 4));
  EXPECT_EQ(bytes, (std::array<std::uint8_t, 8>{1, 2, 0, 0, 0, 0, 7, 8}));
}

}  // namespace
}  // namespace nyx::crypto
