#include <array>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/aead.hpp"
#include "core/crypto/encoding.hpp"
#include "support/hex.hpp"
#include "support/rfc8439.hpp"

namespace nyx::crypto {
namespace {

using test::unhex;
using test::unhex_array;

using test::kSunscreen;
constexpr std::string_view kExpectedCiphertext =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116";
constexpr std::string_view kExpectedTag = "1ae10b594f09e26a7e902ecbd0600691";

// RFC 8439 §2.8.2.
struct Rfc8439Vector {
  std::array<std::uint8_t, 32> key =
      unhex_array<32>("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  std::array<std::uint8_t, 12> nonce = unhex_array<12>("070000004041424344454647");
  std::array<std::uint8_t, 12> ad = unhex_array<12>("50515253c0c1c2c3c4c5c6c7");
  Bytes plaintext = as_bytes(kSunscreen);

  std::vector<std::uint8_t> sealed() const {
    std::vector<std::uint8_t> out(plaintext.size() + kAeadTagSize);
    aead_seal(key, nonce, ad, plaintext, out);
    return out;
  }
};

TEST(Aead, Rfc8439Seal) {
  const Rfc8439Vector v;
  const auto out = v.sealed();
  EXPECT_EQ(to_hex(Bytes(out).first(v.plaintext.size())), kExpectedCiphertext);
  EXPECT_EQ(to_hex(Bytes(out).last(kAeadTagSize)), kExpectedTag);
}

TEST(Aead, Rfc8439Open) {
  const Rfc8439Vector v;
  auto ciphertext = unhex(kExpectedCiphertext);
  const auto tag = unhex(kExpectedTag);
  ciphertext.insert(ciphertext.end(), tag.begin(), tag.end());
  std::vector<std::uint8_t> plaintext(ciphertext.size() - kAeadTagSize);
  ASSERT_TRUE(aead_open(v.key, v.nonce, v.ad, ciphertext, plaintext));
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(plaintext.data()), plaintext.size()),
            kSunscreen);
}

TEST(Aead, InPlaceSealAndOpen) {
  const Rfc8439Vector v;
  std::vector<std::uint8_t> buffer(v.plaintext.begin(), v.plaintext.end());
  buffer.resize(buffer.size() + kAeadTagSize);
  aead_seal(v.key, v.nonce, v.ad, Bytes(buffer).first(v.plaintext.size()), buffer);
  EXPECT_EQ(buffer, v.sealed());

  ASSERT_TRUE(
      aead_open(v.key, v.nonce, v.ad, buffer, MutableBytes(buffer).first(v.plaintext.size())));
  EXPECT_TRUE(std::equal(v.plaintext.begin(), v.plaintext.end(), buffer.begin()));
}

TEST(Aead, EmptyPlaintextStillAuthenticatesAd) {
  const Rfc8439Vector v;
  std::array<std::uint8_t, kAeadTagSize> sealed{};
  aead_seal(v.key, v.nonce, v.ad, {}, sealed);
  EXPECT_TRUE(aead_open(v.key, v.nonce, v.ad, sealed, {}));
  const std::vector<std::uint8_t> other_ad{1, 2, 3};
  EXPECT_FALSE(aead_open(v.key, v.nonce, other_ad, sealed, {}));
}

void expect_rejected(const Rfc8439Vector& v, Bytes ad, Bytes ciphertext,
                     std::span<const std::uint8_t, kAeadNonceSize> nonce) {
  std::vector<std::uint8_t> out(ciphertext.size() - kAeadTagSize, 0xaa);
  const auto status = aead_open(v.key, nonce, ad, ciphertext, out);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().category, ErrorCategory::kCrypto);
  EXPECT_EQ(out, std::vector<std::uint8_t>(out.size(), 0)) << "output must be zeroed on failure";
}

TEST(Aead, TamperedCiphertextFails) {
  const Rfc8439Vector v;
  for (std::size_t i : {std::size_t{0}, std::size_t{57}, v.plaintext.size() - 1}) {
    auto sealed = v.sealed();
    sealed[i] ^= 0x01;
    expect_rejected(v, v.ad, sealed, v.nonce);
  }
}

TEST(Aead, TamperedTagFails) {
  const Rfc8439Vector v;
  auto sealed = v.sealed();
  sealed.back() ^= 0x80;
  expect_rejected(v, v.ad, sealed, v.nonce);
}

TEST(Aead, TamperedAdFails) {
  const Rfc8439Vector v;
  auto ad = v.ad;
  ad[3] ^= 0x10;
  expect_rejected(v, ad, v.sealed(), v.nonce);
  expect_rejected(v, Bytes(v.ad).first(v.ad.size() - 1), v.sealed(), v.nonce);
}

TEST(Aead, WrongNonceFails) {
  const Rfc8439Vector v;
  auto nonce = v.nonce;
  nonce[11] ^= 0x01;
  expect_rejected(v, v.ad, v.sealed(), nonce);
}

TEST(Aead, BadSizesAreInvalidArgument) {
  const Rfc8439Vector v;
  const auto sealed = v.sealed();
  std::vector<std::uint8_t> out(sealed.size());  // should be 16 shorter
  auto status = aead_open(v.key, v.nonce, v.ad, sealed, out);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().category, ErrorCategory::kInvalidArgument);

  const std::array<std::uint8_t, kAeadTagSize - 1> short_input{};
  status = aead_open(v.key, v.nonce, v.ad, short_input, {});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().category, ErrorCategory::kInvalidArgument);
}

}  // namespace
}  // namespace nyx::crypto
