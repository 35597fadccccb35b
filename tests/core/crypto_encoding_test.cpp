#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/encoding.hpp"

namespace nyx::crypto {
namespace {

std::vector<std::uint8_t> all_bytes() {
  std::vector<std::uint8_t> bytes(256);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(i);
  }
  return bytes;
}

TEST(Hex, KnownValues) {
  EXPECT_EQ(to_hex({}), "");
  const std::vector<std::uint8_t> bytes{0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(to_hex(bytes), "0001abff");
  EXPECT_EQ(from_hex("0001ABff").value(), bytes);
  EXPECT_TRUE(from_hex("").value().empty());
}

TEST(Hex, RoundTrip) {
  const auto bytes = all_bytes();
  EXPECT_EQ(from_hex(to_hex(bytes)).value(), bytes);
}

TEST(Hex, BadInputIsAParseError) {
  for (const auto* bad : {"0", "abc", "0g", "zz", " 00", "00 ", "0x00", "00:11"}) {
    const auto result = from_hex(bad);
    ASSERT_FALSE(result) << bad;
    EXPECT_EQ(result.error().category, ErrorCategory::kParse) << bad;
  }
}

// RFC 4648 §10.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(to_base64(as_bytes(plain)), encoded);
    const auto decoded = from_base64(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(std::string(decoded->begin(), decoded->end()), plain);
  }
}

TEST(Base64, RoundTrip) {
  auto bytes = all_bytes();
  for (std::size_t length = 0; length < 8; ++length) {
    const std::vector<std::uint8_t> prefix(Bytes(bytes).first(length).begin(),
                                           Bytes(bytes).first(length).end());
    EXPECT_EQ(from_base64(to_base64(prefix)).value(), prefix);
  }
  EXPECT_EQ(from_base64(to_base64(bytes)).value(), bytes);
}

TEST(Base64, BadInputIsAParseError) {
  for (const auto* bad :
       {"Zg", "Zg=", "Zm9v!", "Zm9", "Z===", "Zm9v Zg==", "Zm=v", "Zm9vYg==Zg=="}) {
    const auto result = from_base64(bad);
    ASSERT_FALSE(result) << bad;
    EXPECT_EQ(result.error().category, ErrorCategory::kParse) << bad;
  }
}

}  // namespace
}  // namespace nyx::crypto
