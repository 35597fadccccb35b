#include "cli/bench_protocol.hpp"

#include <gtest/gtest.h>

namespace nyx::cli {
namespace {

TEST(BenchProtocol, HeaderRoundTrips) {
  const RequestHeader header{BenchMode::kBulk, 48, std::uint64_t{1} << 30};
  const auto bytes = encode_request_header(header);
  EXPECT_EQ(bytes[0], 'N');
  EXPECT_EQ(bytes[1], 'B');
  EXPECT_EQ(bytes[2], 2);
  auto parsed = parse_request_header(bytes);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, header);
}

TEST(BenchProtocol, FieldsAreBigEndianAtTheirOffsets) {
  const auto bytes = encode_request_header({BenchMode::kRequestResponse, 0x01020304, 0x0A0B});
  EXPECT_EQ(bytes[4], 0x01);
  EXPECT_EQ(bytes[7], 0x04);
  EXPECT_EQ(bytes[14], 0x0A);
  EXPECT_EQ(bytes[15], 0x0B);
}

TEST(BenchProtocol, RefusesMalformedHeaders) {
  auto good = encode_request_header({BenchMode::kIdle, 0, 1024});
  EXPECT_FALSE(parse_request_header(Bytes(good.data(), 15)));

  auto bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_FALSE(parse_request_header(bad_magic));

  auto bad_mode = good;
  bad_mode[2] = 0;
  EXPECT_FALSE(parse_request_header(bad_mode));
  bad_mode[2] = 4;
  EXPECT_FALSE(parse_request_header(bad_mode));

  auto reserved = good;
  reserved[3] = 1;
  EXPECT_FALSE(parse_request_header(reserved));

  const auto big_body = encode_request_header({BenchMode::kBulk, kMaxRequestBody + 1, 0});
  EXPECT_EQ(parse_request_header(big_body).error().category, ErrorCategory::kParse);
  const auto big_response = encode_request_header({BenchMode::kBulk, 0, kMaxResponseSize + 1});
  EXPECT_FALSE(parse_request_header(big_response));
  const auto largest = encode_request_header({BenchMode::kBulk, kMaxRequestBody, kMaxResponseSize});
  EXPECT_TRUE(parse_request_header(largest));
}

}  // namespace
}  // namespace nyx::cli
