#include "daemon/stream_open.hpp"

#include <cerrno>
#include <vector>

#include <gtest/gtest.h>

namespace nyx::daemon {
namespace {

Socks5Destination dest(Socks5AddressType type, std::string host, std::uint16_t port) {
  return Socks5Destination{type, std::move(host), port};
}

TEST(StreamOpenTest, EncodesTheDocumentedBytes) {
  auto v4 = encode_stream_open(dest(Socks5AddressType::kIpv4, "127.0.0.1", 8080));
  ASSERT_TRUE(v4);
  EXPECT_EQ(*v4, (std::vector<std::uint8_t>{0x01, 0x01, 127, 0, 0, 1, 0x1f, 0x90}));
  auto name = encode_stream_open(dest(Socks5AddressType::kDomain, "a.io", 443));
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, (std::vector<std::uint8_t>{0x01, 0x03, 4, 'a', '.', 'i', 'o', 0x01, 0xbb}));
}

TEST(StreamOpenTest, RoundTripsEveryAddressType) {
  for (const auto& d : {dest(Socks5AddressType::kIpv4, "10.1.2.3", 1),
                        dest(Socks5AddressType::kIpv6, "2001:db8::1", 65535),
                        dest(Socks5AddressType::kDomain, std::string(255, 'x'), 80)}) {
    auto bytes = encode_stream_open(d);
    ASSERT_TRUE(bytes);
    // Every proper prefix asks for more bytes.
    for (std::size_t n = 0; n < bytes->size(); ++n) {
      auto partial = parse_stream_open(Bytes(bytes->data(), n));
      ASSERT_TRUE(partial) << n;
      EXPECT_FALSE(partial->has_value()) << n;
    }
    bytes->push_back(0xEE);  // stream data after the request is not consumed
    auto parsed = parse_stream_open(*bytes);
    ASSERT_TRUE(parsed && parsed->has_value());
    EXPECT_EQ((*parsed)->consumed, bytes->size() - 1);
    EXPECT_EQ((*parsed)->value.type, d.type);
    EXPECT_EQ((*parsed)->value.host, d.host);
    EXPECT_EQ((*parsed)->value.port, d.port);
  }
}

TEST(StreamOpenTest, RefusesBadDestinationsToEncode) {
  EXPECT_FALSE(encode_stream_open(dest(Socks5AddressType::kIpv4, "::1", 80)));
  EXPECT_FALSE(encode_stream_open(dest(Socks5AddressType::kIpv6, "1.2.3.4", 80)));
  EXPECT_FALSE(encode_stream_open(dest(Socks5AddressType::kIpv4, "1.2.3.4", 0)));
  EXPECT_FALSE(encode_stream_open(dest(Socks5AddressType::kDomain, "", 80)));
  EXPECT_FALSE(encode_stream_open(dest(Socks5AddressType::kDomain, std::string(256, 'x'), 80)));
  EXPECT_FALSE(encode_stream_open(dest(Socks5AddressType::kDomain, std::string("a\0b", 3), 80)));
}

TEST(StreamOpenTest, RejectsMalformedRequests) {
  using V = std::vector<std::uint8_t>;
  for (const V& bad :
       {V{0x02, 0x01, 1, 2, 3, 4, 0, 80}, V{0x01, 0x02, 1, 2, 3, 4, 0, 80}, V{0x01, 0x03, 0, 0, 80},
        V{0x01, 0x03, 2, 'a', 0, 0, 80}, V{0x01, 0x01, 1, 2, 3, 4, 0, 0}}) {
    auto parsed = parse_stream_open(bad);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().category, ErrorCategory::kParse);
  }
}

TEST(StreamOpenTest, StatusMapsToAndFromSocksReplies) {
  for (std::uint8_t b = 0; b <= 6; ++b) {
    auto status = parse_stream_open_status(b);
    ASSERT_TRUE(status);
    if (*status == StreamOpenStatus::kSuccess) {
      continue;
    }
    const Error error = stream_open_error(*status);
    EXPECT_EQ(static_cast<std::uint8_t>(socks5_reply_for(error)), b);
    EXPECT_EQ(stream_open_status_for(error), *status);
  }
  EXPECT_FALSE(parse_stream_open_status(7));
  EXPECT_FALSE(parse_stream_open_status(0xff));
  EXPECT_EQ(stream_open_status_for(Error{ErrorCategory::kIo, ECONNREFUSED, "x"}),
            StreamOpenStatus::kRefused);
  EXPECT_EQ(stream_open_status_for(Error{ErrorCategory::kPermission, 0, "x"}),
            StreamOpenStatus::kNotAllowed);
}

}  // namespace
}  // namespace nyx::daemon
