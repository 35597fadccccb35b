#include <array>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/blake2b.hpp"
#include "core/crypto/encoding.hpp"
#include "support/hex.hpp"

namespace nyx::crypto {
namespace {

std::array<std::uint8_t, 64> kat_key() {
  std::array<std::uint8_t, 64> key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(i);
  }
  return key;
}

std::string hash_hex(std::size_t out_len, Bytes in, Bytes key = {}) {
  std::vector<std::uint8_t> out(out_len);
  blake2b(out, in, key);
  return to_hex(out);
}

// RFC 7693 Appendix A ("abc") and the BLAKE2b-512 digest of the empty string.
TEST(Blake2b, UnkeyedReferenceVectors) {
  EXPECT_EQ(hash_hex(64, {}),
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
            "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
  EXPECT_EQ(hash_hex(64, as_bytes("abc")),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

// blake2b-kat.txt from the BLAKE2 reference repository: key 00..3f, input
// 00..(n-1).
TEST(Blake2b, KeyedReferenceVectors) {
  const auto key = kat_key();
  EXPECT_EQ(hash_hex(64, {}, key),
            "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
            "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568");
  const std::array<std::uint8_t, 1> one_byte{0x00};
  EXPECT_EQ(hash_hex(64, one_byte, key),
            "961f6dd1e4dd30f63901690c512e78e4b45e4742ed197c3c5e45c549fd25f2e4"
            "187b0bc9fe30492b16b0d0bc4ef9b0f34c7003fac09a5ef1532e69430234cebd");
}

TEST(Blake2b, IncrementalEqualsOneShot) {
  const auto key = kat_key();
  std::vector<std::uint8_t> input(300);
  for (std::size_t i = 0; i < input.size(); ++i) {
    input[i] = static_cast<std::uint8_t>(i * 7);
  }
  for (std::size_t out_len : {std::size_t{16}, std::size_t{32}, std::size_t{64}}) {
    Blake2b hash(out_len, Bytes(key).first(32));
    hash.update(Bytes(input).first(1));
    hash.update(Bytes(input).subspan(1, 128));
    hash.update(Bytes(input).subspan(129));
    std::vector<std::uint8_t> incremental(out_len);
    hash.finish(incremental);
    EXPECT_EQ(to_hex(incremental), hash_hex(out_len, input, Bytes(key).first(32))) << out_len;
  }
}

TEST(Blake2b, OutputLengthIsPartOfTheHash) {
  // Not a truncation: BLAKE2b puts the length into its parameter block.
  EXPECT_NE(hash_hex(32, as_bytes("abc")), hash_hex(64, as_bytes("abc")).substr(0, 64));
}

// The construction of docs/protocol.md "Crypto primitives", computed
// independently (Python hashlib.blake2b(b"nyx-kdf-v1\0" + label, key=key,
// digest_size=n)).
TEST(Kdf, MatchesTheDocumentedConstruction) {
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(i);
  }
  std::array<std::uint8_t, 32> out32{};
  kdf(out32, key, "nyx test");
  EXPECT_EQ(to_hex(out32), "118c3c7b23f6d932d9a92b0d789f5de4bdefd5084cf3df83773d44f152cfa325");
  std::array<std::uint8_t, 64> out64{};
  kdf(out64, key, "nyx test");
  EXPECT_EQ(to_hex(out64),
            "71f0e2ebe3b035f9f9aa8bc48b279d0881f2ab8baf7d7f5886736c30122d9616"
            "e9938f0e3e410e612557e99e0f510e1270539288889fd4e4ab9d4603c4bedb03");
}

TEST(Kdf, LabelsAndKeysSeparate) {
  std::array<std::uint8_t, 32> key{};
  std::array<std::uint8_t, 32> a{};
  std::array<std::uint8_t, 32> b{};
  kdf(a, key, "forward");
  kdf(b, key, "backward");
  EXPECT_NE(a, b);
  kdf(b, key, "forward");
  EXPECT_EQ(a, b);
  key[31] = 1;
  kdf(b, key, "forward");
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace nyx::crypto
