#include "core/host_port.hpp"

#include <gtest/gtest.h>

namespace nyx {
namespace {

TEST(HostPortParse, AcceptsNamesV4AndBracketedV6) {
  EXPECT_EQ(parse_host_port("example.org:443").value(), (HostPort{"example.org", 443}));
  EXPECT_EQ(parse_host_port("127.0.0.1:0").value(), (HostPort{"127.0.0.1", 0}));
  EXPECT_EQ(parse_host_port("h:1").value(), (HostPort{"h", 1}));
  EXPECT_EQ(parse_host_port("under_score.test:80").value(), (HostPort{"under_score.test", 80}));
  EXPECT_EQ(parse_host_port("[::1]:9050").value(), (HostPort{"::1", 9050}));
  EXPECT_EQ(parse_host_port("[::ffff:1.2.3.4]:65535").value(), (HostPort{"::ffff:1.2.3.4", 65535}));
}

TEST(HostPortParse, RejectsMalformed) {
  for (const auto* bad : {"",         "h",           "host",       ":80",
                          "h:",       "host:",       "host:65536", "host:-1",
                          "host:+80", "host:8o",     "host:8x",    "::1:80",
                          "[::1]",    "[::1]80",     "[]:80",      "[zz::1]:80",
                          "ho st:80", "host:123456", "[::1:80",    "[127.0.0.1]:80"}) {
    const auto result = parse_host_port(bad);
    ASSERT_FALSE(result) << bad;
    EXPECT_EQ(result.error().category, ErrorCategory::kParse) << bad;
  }
}

TEST(HostPortParse, ErrorsSayWhatIsWrongWithoutRepeatingTheText) {
  EXPECT_EQ(parse_host_port("::1:80").error().message,
            "an IPv6 address needs brackets: \"[addr]:port\"");
  EXPECT_EQ(parse_host_port("host:99999").error().message, "port must be a number from 0 to 65535");
  EXPECT_EQ(parse_host_port("host").error().message, "expected \"host:port\"");
}

TEST(HostPortText, BracketsIpv6AndRoundTrips) {
  EXPECT_EQ((HostPort{"::1", 9050}).to_string(), "[::1]:9050");
  EXPECT_EQ((HostPort{"a.b", 1}).to_string(), "a.b:1");
  for (const auto* text : {"example.org:443", "[::1]:9050", "10.0.0.1:0"}) {
    EXPECT_EQ(parse_host_port(text).value().to_string(), text);
  }
}

}  // namespace
}  // namespace nyx
