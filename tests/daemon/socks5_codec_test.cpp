#include "daemon/socks5_codec.hpp"

#include <cerrno>
#include <vector>

#include <gtest/gtest.h>

namespace nyx::daemon {
namespace {

using Buffer = std::vector<std::uint8_t>;

Socks5Reply reply_of(const Error& error) { return socks5_reply_of_parse_error(error); }

TEST(Socks5CodecTest, GreetingNeedsMoreBytesUntilComplete) {
  const Buffer greeting{0x05, 0x02, 0x00, 0x02};
  for (std::size_t n = 0; n < greeting.size(); ++n) {
    auto r = parse_socks5_greeting(Bytes(greeting).first(n));
    ASSERT_TRUE(r.has_value()) << n;
    EXPECT_FALSE(r->has_value()) << n;
  }
  auto r = parse_socks5_greeting(greeting);
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ((*r)->consumed, 4u);
  EXPECT_TRUE((*r)->value.offers_no_auth);
  EXPECT_TRUE((*r)->value.offers_user_pass);
}

TEST(Socks5CodecTest, GreetingRejectsWrongVersionAndEmptyMethods) {
  auto v4 = parse_socks5_greeting(Buffer{0x04, 0x01, 0x00});
  ASSERT_FALSE(v4.has_value());
  EXPECT_EQ(v4.error().category, ErrorCategory::kParse);
  auto empty = parse_socks5_greeting(Buffer{0x05, 0x00});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(reply_of(empty.error()), Socks5Reply::kGeneralFailure);
}

TEST(Socks5CodecTest, MethodSelectionPrefersUserPassThenNoAuth) {
  EXPECT_EQ(select_socks5_method({.offers_no_auth = true, .offers_user_pass = true}),
            Socks5Method::kUserPass);
  EXPECT_EQ(select_socks5_method({.offers_no_auth = true}), Socks5Method::kNoAuth);
  EXPECT_EQ(select_socks5_method({}), Socks5Method::kNoAcceptable);
  // Only GSSAPI (0x01) offered: nothing acceptable.
  auto r = parse_socks5_greeting(Buffer{0x05, 0x01, 0x01});
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ(select_socks5_method((*r)->value), Socks5Method::kNoAcceptable);
  EXPECT_EQ(encode_socks5_method_selection(Socks5Method::kNoAcceptable),
            (std::array<std::uint8_t, 2>{0x05, 0xFF}));
}

TEST(Socks5CodecTest, UserPassGivesIsolationKey) {
  const Buffer msg{0x01, 0x03, 'b', 'o', 'b', 0x02, 'p', 'w', 0xAA};
  auto r = parse_socks5_user_pass(msg);
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ((*r)->consumed, 8u);
  EXPECT_EQ((*r)->value, (IsolationKey{"bob", "pw"}));
  auto partial = parse_socks5_user_pass(Bytes(msg).first(6));
  ASSERT_TRUE(partial.has_value());
  EXPECT_FALSE(partial->has_value());
  EXPECT_FALSE(parse_socks5_user_pass(Buffer{0x05, 0x00, 0x00}).has_value());
  EXPECT_EQ(encode_socks5_user_pass_reply(true), (std::array<std::uint8_t, 2>{0x01, 0x00}));
  EXPECT_EQ(encode_socks5_user_pass_reply(false), (std::array<std::uint8_t, 2>{0x01, 0x01}));
}

TEST(Socks5CodecTest, ConnectToIpv4) {
  const Buffer msg{0x05, 0x01, 0x00, 0x01, 10, 1, 2, 3, 0x01, 0xBB, 'x'};
  auto r = parse_socks5_request(msg);
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ((*r)->consumed, 10u);
  EXPECT_EQ((*r)->value.type, Socks5AddressType::kIpv4);
  EXPECT_EQ((*r)->value.host, "10.1.2.3");
  EXPECT_EQ((*r)->value.port, 443);
}

TEST(Socks5CodecTest, ConnectToIpv6) {
  Buffer msg{0x05, 0x01, 0x00, 0x04};
  Buffer addr(16, 0);
  addr[0] = 0x20;
  addr[1] = 0x01;
  addr[2] = 0x0d;
  addr[3] = 0xb8;
  addr[15] = 0x01;
  msg.insert(msg.end(), addr.begin(), addr.end());
  msg.push_back(0x00);
  msg.push_back(0x50);
  auto r = parse_socks5_request(msg);
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ((*r)->value.type, Socks5AddressType::kIpv6);
  EXPECT_EQ((*r)->value.host, "2001:db8::1");
  EXPECT_EQ((*r)->value.port, 80);
}

TEST(Socks5CodecTest, ConnectToDomainKeepsTheNameUnresolved) {
  const std::string name = "example.com";
  Buffer msg{0x05, 0x01, 0x00, 0x03, static_cast<std::uint8_t>(name.size())};
  msg.insert(msg.end(), name.begin(), name.end());
  msg.push_back(0x1F);
  msg.push_back(0x90);
  for (std::size_t n = 0; n < msg.size(); ++n) {
    auto partial = parse_socks5_request(Bytes(msg).first(n));
    ASSERT_TRUE(partial.has_value()) << n;
    EXPECT_FALSE(partial->has_value()) << n;
  }
  auto r = parse_socks5_request(msg);
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ((*r)->value.type, Socks5AddressType::kDomain);
  EXPECT_EQ((*r)->value.host, name);
  EXPECT_EQ((*r)->value.port, 8080);
  EXPECT_EQ((*r)->consumed, msg.size());
}

TEST(Socks5CodecTest, BindAndUdpAssociateAreNotSupported) {
  for (std::uint8_t command : {std::uint8_t{0x02}, std::uint8_t{0x03}, std::uint8_t{0x09}}) {
    auto r = parse_socks5_request(Buffer{0x05, command, 0x00, 0x01, 1, 2, 3, 4, 0, 80});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(reply_of(r.error()), Socks5Reply::kCommandNotSupported);
  }
}

TEST(Socks5CodecTest, MalformedRequestsGetTheirReplies) {
  auto atyp = parse_socks5_request(Buffer{0x05, 0x01, 0x00, 0x07});
  ASSERT_FALSE(atyp.has_value());
  EXPECT_EQ(reply_of(atyp.error()), Socks5Reply::kAddressTypeNotSupported);
  auto version = parse_socks5_request(Buffer{0x04, 0x01});
  ASSERT_FALSE(version.has_value());
  EXPECT_EQ(reply_of(version.error()), Socks5Reply::kGeneralFailure);
  auto reserved = parse_socks5_request(Buffer{0x05, 0x01, 0x01, 0x01});
  ASSERT_FALSE(reserved.has_value());
  auto empty_name = parse_socks5_request(Buffer{0x05, 0x01, 0x00, 0x03, 0x00, 0x00, 0x50});
  ASSERT_FALSE(empty_name.has_value());
  auto bad_name = parse_socks5_request(Buffer{0x05, 0x01, 0x00, 0x03, 0x02, 'a', 0x00, 0, 80});
  ASSERT_FALSE(bad_name.has_value());
  EXPECT_EQ(reply_of(bad_name.error()), Socks5Reply::kGeneralFailure);
}

TEST(Socks5CodecTest, ReplyCarriesCodeAndZeroBoundAddress) {
  for (int code = 0; code <= 8; ++code) {
    auto bytes = encode_socks5_reply(static_cast<Socks5Reply>(code));
    EXPECT_EQ(bytes, (std::array<std::uint8_t, 10>{0x05, static_cast<std::uint8_t>(code), 0x00,
                                                   0x01, 0, 0, 0, 0, 0, 0}));
  }
}

TEST(Socks5CodecTest, ConnectErrorsMapToReplies) {
  auto io = [](int code) { return Error{ErrorCategory::kIo, code, "x"}; };
  EXPECT_EQ(socks5_reply_for(io(ECONNREFUSED)), Socks5Reply::kConnectionRefused);
  EXPECT_EQ(socks5_reply_for(io(EHOSTUNREACH)), Socks5Reply::kHostUnreachable);
  EXPECT_EQ(socks5_reply_for(io(ENETUNREACH)), Socks5Reply::kNetworkUnreachable);
  EXPECT_EQ(socks5_reply_for(io(ETIMEDOUT)), Socks5Reply::kTtlExpired);
  EXPECT_EQ(socks5_reply_for(io(EPIPE)), Socks5Reply::kGeneralFailure);
  EXPECT_EQ(socks5_reply_for({ErrorCategory::kTimeout, 0, "x"}), Socks5Reply::kTtlExpired);
  EXPECT_EQ(socks5_reply_for({ErrorCategory::kPermission, 0, "x"}),
            Socks5Reply::kNotAllowedByRuleset);
  EXPECT_EQ(socks5_reply_for({ErrorCategory::kNotFound, 0, "x"}), Socks5Reply::kHostUnreachable);
  EXPECT_EQ(socks5_reply_for({ErrorCategory::kInternal, 0, "x"}), Socks5Reply::kGeneralFailure);
}

}  // namespace
}  // namespace nyx::daemon
