#include "daemon/exit_address_policy.hpp"

#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include "daemon/ip_address_of.hpp"
#include "daemon/own_addresses.hpp"

namespace nyx::daemon {
namespace {

IpAddress ip(std::string_view text) {
  auto address = IpAddress::parse(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

ExitAddressPolicy policy(std::string_view text, ExitAddressPolicyOptions options = {},
                         const std::set<IpAddress>& own_addresses = {}) {
  auto parsed = ExitAddressPolicy::parse(text, options, own_addresses);
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

// One address inside each range of proposal 0004, section 8.1, and one just
// outside it where that is an ordinary destination (ff00::/8 and 240.0.0.0/4
// end their address space; below 240/4 lies multicast).
struct SpecialRangeCase {
  const char* range;
  std::vector<const char*> inside;
  const char* outside;  // nullptr: none meaningful
};

const std::vector<SpecialRangeCase>& special_range_cases() {
  static const std::vector<SpecialRangeCase> kCases = {
      {"64:ff9b::/96", {"64:ff9b::a00:1", "64:ff9b::8.8.8.8"}, "64:ff9b::1:0:0"},
      {"64:ff9b:1::/48", {"64:ff9b:1::a00:1", "64:ff9b:1:ffff::1"}, "64:ff9b:2::1"},
      {"2002::/16", {"2002:c000:221::1", "2002:a00:1::1"}, "2003::1"},
      {"192.0.0.0/24", {"192.0.0.8", "192.0.0.255"}, "192.0.1.1"},
      {"198.18.0.0/15", {"198.18.0.1", "198.19.255.255"}, "198.20.0.1"},
      {"224.0.0.0/4", {"224.0.0.1", "239.255.255.255"}, "223.255.255.255"},
      {"ff00::/8", {"ff02::1", "ff0e::1"}, nullptr},
      {"240.0.0.0/4", {"240.0.0.1", "255.255.255.255"}, nullptr},
  };
  return kCases;
}

TEST(ExitAddressPolicyTest, SpecialRangesAreRefusedEvenWithAllowPrivate) {
  const ExitAddressPolicy strict = policy("accept *:*");
  const ExitAddressPolicy testnet = policy("accept *:*", {.allow_private = true});
  for (const auto& range : special_range_cases()) {
    for (const char* address : range.inside) {
      EXPECT_TRUE(ExitAddressPolicy::is_special(ip(address))) << range.range << " " << address;
      EXPECT_FALSE(strict.allows(ip(address), 80)) << range.range << " " << address;
      EXPECT_FALSE(testnet.allows(ip(address), 80)) << range.range << " " << address;
      EXPECT_EQ(testnet.check(address, 80), ExitVerdict::kReject) << address;
    }
    if (range.outside != nullptr) {
      EXPECT_FALSE(ExitAddressPolicy::is_special(ip(range.outside))) << range.outside;
      EXPECT_TRUE(strict.allows(ip(range.outside), 80)) << range.range << " " << range.outside;
    }
  }
  // IPv4-mapped forms are the IPv4 address they carry.
  for (const char* mapped : {"::ffff:192.0.0.8", "::ffff:198.18.0.1", "::ffff:224.0.0.1",
                             "::ffff:240.0.0.1", "::ffff:255.255.255.255"}) {
    EXPECT_TRUE(ExitAddressPolicy::is_special(ip(mapped))) << mapped;
    EXPECT_FALSE(testnet.allows(ip(mapped), 80)) << mapped;
    EXPECT_EQ(testnet.check(mapped, 80), ExitVerdict::kReject) << mapped;
  }
  EXPECT_TRUE(strict.allows(ip("::ffff:198.20.0.1"), 80));
  // No rule lifts them either.
  EXPECT_FALSE(policy("accept 224.0.0.0/4:*", {.allow_private = true}).allows(ip("224.0.0.1"), 80));
  EXPECT_FALSE(policy("accept [2002::]/16:*").allows(ip("2002:c000:221::1"), 80));
}

// The exit's resolver (getaddrinfo) reads numbers inet_pton does not, such as
// "3758096385" for 224.0.0.1, so these are names to the policy and reach the
// path that checks every resolved address. numeric_host keeps it off DNS and
// /etc/hosts.
TEST(ExitAddressPolicyTest, NamesThatResolveIntoASpecialRangeAreRefused) {
  const ExitAddressPolicy testnet = policy("accept *:*", {.allow_private = true});
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  for (const char* name : {"3758096385", "0xc6120001", "192.0.8"}) {
    EXPECT_EQ(testnet.check(name, 80), ExitVerdict::kResolveFirst) << name;
    std::error_code ec;
    const auto results = resolver.resolve(name, "80", asio::ip::resolver_base::numeric_host, ec);
    ASSERT_FALSE(ec) << name << ": " << ec.message();
    ASSERT_FALSE(results.empty()) << name;
    for (const auto& entry : results) {
      const IpAddress address = ip_address_of(entry.endpoint().address());
      EXPECT_TRUE(ExitAddressPolicy::is_special(address)) << name;
      EXPECT_FALSE(testnet.allows(address, 80)) << name;
    }
  }
}

TEST(ExitAddressPolicyTest, OwnAddressesAreRefused) {
  const std::set<IpAddress> own = {ip("198.51.100.2"), ip("2001:db8::2"), ip("::ffff:203.0.113.9"),
                                   ip("127.0.0.1")};
  const ExitAddressPolicy strict = policy("accept *:*", {}, own);
  for (const char* address :
       {"198.51.100.2", "::ffff:198.51.100.2", "2001:db8::2", "203.0.113.9"}) {
    EXPECT_FALSE(strict.allows(ip(address), 443)) << address;
    EXPECT_EQ(strict.check(address, 443), ExitVerdict::kReject) << address;
  }
  EXPECT_TRUE(strict.allows(ip("198.51.100.3"), 443));
  EXPECT_TRUE(strict.allows(ip("2001:db8::3"), 443));
  // A private own address is left to allow_private: a loopback testnet's exit
  // still reaches the origin beside it.
  EXPECT_FALSE(strict.allows(ip("127.0.0.1"), 443));
  const ExitAddressPolicy testnet = policy("accept *:*", {.allow_private = true}, own);
  EXPECT_TRUE(testnet.allows(ip("127.0.0.1"), 443));
  EXPECT_FALSE(testnet.allows(ip("198.51.100.2"), 443));
  // Without own addresses (exit.reject_own_addresses = false) they are ordinary.
  EXPECT_TRUE(policy("accept *:*").allows(ip("198.51.100.2"), 443));
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

// The configured hosts are taken unmapped, an unspecified one ("every
// interface") is not an address of its own, and what getifaddrs lists is
// added unmapped.
TEST(OwnAddresses, ConfiguredHostsAndInterfacesUnmappedWithoutUnspecified) {
  NodeConfig config;
  config.transport.udp_listen = {"0.0.0.0", 9340};
  config.transport.tcp_listen = HostPort{"::", 9341};
  config.relay.advertise_udp = HostPort{"203.0.113.7", 9340};
  config.relay.advertise_tcp = HostPort{"::ffff:203.0.113.8", 9341};
  auto own = own_addresses(config);
  ASSERT_TRUE(own.has_value()) << own.error().to_string();
  EXPECT_TRUE(own->contains(ip("203.0.113.7")));
  EXPECT_TRUE(own->contains(ip("203.0.113.8")));
  EXPECT_FALSE(own->contains(ip("0.0.0.0")));
  EXPECT_FALSE(own->contains(ip("::")));
  EXPECT_TRUE(own->contains(ip("127.0.0.1")));  // lo, from getifaddrs
  for (const IpAddress& address : *own) {
    EXPECT_EQ(address, address.unmapped());
  }

  config.transport.udp_listen = {"198.51.100.2", 9340};
  config.transport.tcp_listen = HostPort{"2001:db8::2", 9341};
  own = own_addresses(config);
  ASSERT_TRUE(own.has_value()) << own.error().to_string();
  EXPECT_TRUE(own->contains(ip("198.51.100.2")));
  EXPECT_TRUE(own->contains(ip("2001:db8::2")));
}

}  // namespace
}  // namespace nyx::daemon
