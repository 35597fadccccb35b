#include "daemon/exit_address_policy.hpp"

#include <string>

#include <gtest/gtest.h>

namespace nyx::daemon {
namespace {

IpAddress ip(std::string_view text) {
  auto address = IpAddress::parse(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

ExitAddressPolicy policy(std::string_view text, ExitAddressPolicyOptions options = {}) {
  auto parsed = ExitAddressPolicy::parse(text, options);
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().to_string());
  return parsed.value_or(ExitAddressPolicy{});
}

std::string parse_error(std::string_view text) {
  auto parsed = ExitAddressPolicy::parse(text);
  EXPECT_FALSE(parsed.has_value()) << text;
  if (parsed) {
    return {};
  }
  EXPECT_EQ(parsed.error().category, ErrorCategory::kConfig);
  return parsed.error().message;
}

TEST(IpAddressTest, ParsesBothFamiliesAndUnmapsIpv4InIpv6) {
  EXPECT_TRUE(ip("192.0.2.1").is_v4());
  EXPECT_FALSE(ip("2001:db8::1").is_v4());
  EXPECT_FALSE(IpAddress::parse("example.com").has_value());
  EXPECT_FALSE(IpAddress::parse("").has_value());
  EXPECT_FALSE(IpAddress::parse("1.2.3.4.5").has_value());
  const IpAddress mapped = ip("::ffff:10.0.0.1").unmapped();
  EXPECT_TRUE(mapped.is_v4());
  EXPECT_TRUE(mapped.in_prefix(ip("10.0.0.0"), 8));
  EXPECT_FALSE(ip("2001:db8::1").unmapped().is_v4());
}

TEST(IpAddressTest, PrefixMatchingHonoursPartialBytes) {
  EXPECT_TRUE(ip("172.31.255.255").in_prefix(ip("172.16.0.0"), 12));
  EXPECT_FALSE(ip("172.32.0.0").in_prefix(ip("172.16.0.0"), 12));
  EXPECT_TRUE(ip("1.2.3.4").in_prefix(ip("0.0.0.0"), 0));
  EXPECT_FALSE(ip("1.2.3.4").in_prefix(ip("::"), 0));  // families never match
  EXPECT_TRUE(ip("fe80::1").in_prefix(ip("fe80::"), 10));
  EXPECT_FALSE(ip("fec0::1").in_prefix(ip("fe80::"), 10));
}

TEST(ExitAddressPolicyTest, DefaultIsReject) {
  const ExitAddressPolicy empty = policy("");
  EXPECT_EQ(empty.rule_count(), 0u);
  EXPECT_FALSE(empty.allows(ip("93.184.216.34"), 80));
  EXPECT_EQ(empty.check("example.com", 80), ExitVerdict::kReject);
}

TEST(ExitAddressPolicyTest, FirstMatchWins) {
  const ExitAddressPolicy p =
      policy("reject 93.184.0.0/16:*, accept *:80, accept *:443, reject *:*");
  EXPECT_EQ(p.rule_count(), 4u);
  EXPECT_FALSE(p.allows(ip("93.184.216.34"), 80));
  EXPECT_TRUE(p.allows(ip("198.51.100.7"), 80));
  EXPECT_TRUE(p.allows(ip("198.51.100.7"), 443));
  EXPECT_FALSE(p.allows(ip("198.51.100.7"), 25));
  EXPECT_TRUE(p.allows(ip("2001:db8::1"), 443));
}

TEST(ExitAddressPolicyTest, PortRangesAndFamilies) {
  const ExitAddressPolicy p = policy(
      "# web only\n"
      "accept *4:8000-8999\n"
      "accept [2001:db8::]/32:22  # ssh to one v6 net\n"
      "accept 198.51.100.7:1-1024\n");
  EXPECT_TRUE(p.allows(ip("203.0.113.9"), 8000));
  EXPECT_TRUE(p.allows(ip("203.0.113.9"), 8999));
  EXPECT_FALSE(p.allows(ip("203.0.113.9"), 9000));
  EXPECT_FALSE(p.allows(ip("2001:db9::1"), 8080));  // *4 is IPv4 only
  EXPECT_TRUE(p.allows(ip("2001:db8:ffff::1"), 22));
  EXPECT_FALSE(p.allows(ip("2001:db9::1"), 22));
  EXPECT_TRUE(p.allows(ip("198.51.100.7"), 1024));
  EXPECT_FALSE(p.allows(ip("198.51.100.8"), 1024));
}

TEST(ExitAddressPolicyTest, PrivateRangesRejectedUnlessAllowed) {
  const ExitAddressPolicy strict = policy("accept *:*");
  for (const char* address :
       {"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.1.1", "100.64.0.1",
        "0.0.0.0", "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:192.168.0.1"}) {
    EXPECT_TRUE(ExitAddressPolicy::is_private(ip(address))) << address;
    EXPECT_FALSE(strict.allows(ip(address), 80)) << address;
    EXPECT_EQ(strict.check(address, 80), ExitVerdict::kReject) << address;
  }
  EXPECT_FALSE(ExitAddressPolicy::is_private(ip("172.32.0.1")));
  EXPECT_TRUE(strict.allows(ip("172.32.0.1"), 80));

  const ExitAddressPolicy testnet = policy("accept 127.0.0.0/8:*", {.allow_private = true});
  EXPECT_TRUE(testnet.allows(ip("127.0.0.1"), 8080));
  EXPECT_TRUE(testnet.allows(ip("::ffff:127.0.0.1"), 8080));
  EXPECT_FALSE(testnet.allows(ip("10.0.0.1"), 8080));  // allowed private, but no rule
}

TEST(ExitAddressPolicyTest, MappedAddressesCannotSidestepIpv4Rules) {
  const ExitAddressPolicy p = policy("reject 198.51.100.0/24:*, accept *:*");
  EXPECT_FALSE(p.allows(ip("::ffff:198.51.100.1"), 80));
  EXPECT_TRUE(p.allows(ip("::ffff:198.51.101.1"), 80));
}

TEST(ExitAddressPolicyTest, NamesAreCheckedAfterResolution) {
  const ExitAddressPolicy p = policy("reject *:25, reject 203.0.113.0/24:80, accept *:*");
  EXPECT_EQ(p.check("mail.example", 25), ExitVerdict::kReject);
  EXPECT_EQ(p.check("www.example", 80), ExitVerdict::kResolveFirst);
  EXPECT_EQ(p.check("www.example", 443), ExitVerdict::kResolveFirst);
  EXPECT_EQ(p.check("203.0.113.5", 80), ExitVerdict::kReject);
  EXPECT_EQ(p.check("203.0.113.5", 443), ExitVerdict::kAccept);
  EXPECT_EQ(policy("accept *:80").check("www.example", 443), ExitVerdict::kReject);
}

TEST(ExitAddressPolicyTest, BadRulesNameTheRuleAndColumn) {
  EXPECT_EQ(parse_error("accept *:80, allow *:443"),
            "exit policy rule 2 \"allow *:443\": expected 'accept' or 'reject' at column 1");
  EXPECT_EQ(parse_error("accept 10.0.0.0/33:80"),
            "exit policy rule 1 \"accept 10.0.0.0/33:80\": prefix length must be 0-32 at "
            "column 17");
  EXPECT_EQ(parse_error("accept *:0"),
            "exit policy rule 1 \"accept *:0\": expected '*', a port 1-65535 or 'low-high' at "
            "column 10");
  EXPECT_EQ(parse_error("accept 10.1.2.3/8:*"),
            "exit policy rule 1 \"accept 10.1.2.3/8:*\": address has bits set past its prefix "
            "length at column 8");
  EXPECT_NE(parse_error("accept 10.0.0.1").find("expected ':' and ports"), std::string::npos);
  EXPECT_NE(parse_error("accept [::1:80").find("'[' without ']'"), std::string::npos);
  EXPECT_NE(parse_error("accept [10.0.0.1]:80").find("expected an IPv6 address"),
            std::string::npos);
  EXPECT_NE(parse_error("accept ::1:80").find("expected an IPv4 address"), std::string::npos);
  EXPECT_NE(parse_error("accept *:90-80").find("low-high"), std::string::npos);
  EXPECT_NE(parse_error("accept *:65536").find("low-high"), std::string::npos);
  EXPECT_NE(parse_error("accept").find("expected ADDRESS:PORTS"), std::string::npos);
  EXPECT_NE(parse_error("accept */8:80").find("wildcard"), std::string::npos);
  EXPECT_NE(parse_error("accept [::1]x:80").find("expected '/bits' or ':'"), std::string::npos);
}

}  // namespace
}  // namespace nyx::daemon
