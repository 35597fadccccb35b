// Poly1305 as a keyed hash (core/crypto/poly1305.hpp): RFC 8439's vector,
// and the incremental form agreeing with the one-shot one however the input
// is cut.

#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/encoding.hpp"
#include "core/crypto/poly1305.hpp"
#include "core/crypto/random.hpp"
#include "support/hex.hpp"

namespace nyx::crypto {
namespace {

using test::unhex_array;

constexpr std::string_view kRfc8439Message = "Cryptographic Forum Research Group";

std::array<std::uint8_t, kPoly1305KeySize> rfc8439_key() {
  return unhex_array<kPoly1305KeySize>(
      "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
}

std::array<std::uint8_t, kPoly1305Size> incremental_tag(Poly1305Key key, Bytes message,
                                                        std::size_t first_cut,
                                                        std::size_t second_cut) {
  Poly1305 hash(key);
  hash.update(message.first(first_cut));
  hash.update(message.subspan(first_cut, second_cut - first_cut));
  hash.update(message.subspan(second_cut));
  std::array<std::uint8_t, kPoly1305Size> tag;
  hash.finish(tag);
  return tag;
}

// RFC 8439 §2.5.2.
TEST(Poly1305, Rfc8439Vector) {
  std::array<std::uint8_t, kPoly1305Size> tag;
  poly1305(rfc8439_key(), as_bytes(kRfc8439Message), tag);
  EXPECT_EQ(to_hex(tag), "a8061dc1305136c6c22b8baf0c0127a9");
  EXPECT_EQ(to_hex(incremental_tag(rfc8439_key(), as_bytes(kRfc8439Message), 0, 0)),
            "a8061dc1305136c6c22b8baf0c0127a9");
}

// Cuts inside and across 16-byte blocks: the incremental state must buffer
// partial blocks exactly as the one-shot hash pads only the last.
TEST(Poly1305, IncrementalMatchesOneShotAtOddCuts) {
  const Bytes rfc = as_bytes(kRfc8439Message);
  for (const std::size_t cut : std::array<std::size_t, 6>{1, 3, 15, 17, 31, 33}) {
    EXPECT_EQ(to_hex(incremental_tag(rfc8439_key(), rfc, cut, cut)),
              "a8061dc1305136c6c22b8baf0c0127a9")
        << cut;
  }
  std::array<std::uint8_t, kPoly1305KeySize> key;
  random_bytes(key);
  std::vector<std::uint8_t> body(1003);  // a cell body's length: not a multiple of 16
  random_bytes(body);
  std::array<std::uint8_t, kPoly1305Size> one_shot;
  poly1305(key, body, one_shot);
  for (const std::size_t first : std::array<std::size_t, 5>{1, 5, 13, 17, 497}) {
    for (const std::size_t second : {first, first + 3, first + 19, std::size_t{1001}}) {
      EXPECT_EQ(incremental_tag(key, body, first, second), one_shot) << first << ", " << second;
    }
  }
}

TEST(Poly1305, KeyAndMessageMatter) {
  auto key = rfc8439_key();
  std::array<std::uint8_t, kPoly1305Size> tag;
  poly1305(key, as_bytes("Cryptographic Forum Research Grouq"), tag);
  EXPECT_NE(to_hex(tag), "a8061dc1305136c6c22b8baf0c0127a9");
  key[31] ^= 1;
  poly1305(key, as_bytes(kRfc8439Message), tag);
  EXPECT_NE(to_hex(tag), "a8061dc1305136c6c22b8baf0c0127a9");
}

}  // namespace
}  // namespace nyx::crypto
