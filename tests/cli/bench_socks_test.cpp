#include "cli/bench_socks.hpp"

#include <gtest/gtest.h>

namespace nyx::cli {
namespace {

TEST(BenchSocks, ConnectByNameIsSocks5h) {
  auto request = encode_socks_connect("origin.test", 7400);
  ASSERT_TRUE(request);
  const std::vector<std::uint8_t> expected{5,   1,   0,   3,   11,  'o', 'r', 'i',  'g',
                                           'i', 'n', '.', 't', 'e', 's', 't', 0x1C, 0xE8};
  EXPECT_EQ(*request, expected);
  EXPECT_FALSE(encode_socks_connect("", 1));
  EXPECT_FALSE(encode_socks_connect(std::string(256, 'a'), 1));
}

TEST(BenchSocks, OneParserReadsRequestsAndReplies) {
  const auto request = *encode_socks_connect("origin.test", 7400);
  auto size = socks_message_size(Bytes(request.data(), kSocksMessagePrefix));
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, request.size());
  auto parsed = parse_socks_message(request);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->code, kSocksConnect);
  EXPECT_EQ(parsed->host, "origin.test");
  EXPECT_EQ(parsed->port, 7400);

  const auto reply = encode_socks_reply(kSocksConnectionRefused);
  EXPECT_EQ(*socks_message_size(Bytes(reply.data(), kSocksMessagePrefix)), 10U);
  auto parsed_reply = parse_socks_message(reply);
  ASSERT_TRUE(parsed_reply);
  EXPECT_EQ(parsed_reply->code, kSocksConnectionRefused);
  EXPECT_EQ(parsed_reply->host, "0.0.0.0");
  EXPECT_EQ(socks_reply_name(parsed_reply->code), "connection refused");

  const std::vector<std::uint8_t> v6{5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0,
                                     0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80};
  EXPECT_EQ(parse_socks_message(v6)->host, "::1");
}

TEST(BenchSocks, RefusesMalformedMessages) {
  const std::vector<std::uint8_t> wrong_version{4, 1, 0, 1, 0};
  EXPECT_FALSE(socks_message_size(wrong_version));
  const std::vector<std::uint8_t> unknown_atyp{5, 1, 0, 9, 0};
  EXPECT_FALSE(socks_message_size(unknown_atyp));
  const std::vector<std::uint8_t> empty_name{5, 1, 0, 3, 0};
  EXPECT_FALSE(socks_message_size(empty_name));
  auto request = *encode_socks_connect("a", 1);
  request.pop_back();
  EXPECT_FALSE(parse_socks_message(request));
}

TEST(BenchSocks, GreetingAndMethodChoice) {
  const auto greeting = encode_socks_greeting();
  auto size = socks_greeting_size(Bytes(greeting.data(), 2));
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, greeting.size());
  EXPECT_TRUE(socks_greeting_offers_no_auth(greeting));
  const std::vector<std::uint8_t> password_only{5, 1, 2};
  EXPECT_FALSE(socks_greeting_offers_no_auth(password_only));
  const std::vector<std::uint8_t> no_methods{5, 0};
  EXPECT_FALSE(socks_greeting_size(no_methods));

  const std::vector<std::uint8_t> accepted{5, 0};
  EXPECT_TRUE(check_socks_method_choice(accepted));
  const std::vector<std::uint8_t> refused{5, 0xFF};
  EXPECT_FALSE(check_socks_method_choice(refused));
}

}  // namespace
}  // namespace nyx::cli
