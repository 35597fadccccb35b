#include "document/exit_rules.hpp"

#include <gtest/gtest.h>

namespace nyx::document {
namespace {

TEST(AdvertisedExitRules, FirstMatchingRuleDecides) {
  auto policy =
      AdvertisedExitRules::parse({"reject *:25", "accept *.example.org:443", "accept *:80-81"});
  ASSERT_TRUE(policy.has_value());
  EXPECT_TRUE(policy->allows("www.example.org:443"));
  EXPECT_TRUE(policy->allows("WWW.Example.ORG", 443));
  EXPECT_FALSE(policy->allows("example.org:443"));  // "*.suffix" needs a label before it
  EXPECT_FALSE(policy->allows("www.example.org:25"));
  EXPECT_TRUE(policy->allows("anything:81"));
  EXPECT_FALSE(policy->allows("anything:82"));  // no rule matches: refused
}

TEST(AdvertisedExitRules, EmptyRulesRefuseEverything) {
  EXPECT_FALSE(AdvertisedExitRules{}.allows("a.b:80"));
}

TEST(AdvertisedExitRules, Ipv6DestinationsAreBracketed) {
  auto policy = AdvertisedExitRules::parse({"accept [::1]:22"});
  ASSERT_TRUE(policy.has_value());
  EXPECT_TRUE(policy->allows("[::1]:22"));
  EXPECT_FALSE(policy->allows("::1:22"));
  EXPECT_EQ(policy->to_text(), std::vector<std::string>{"accept [::1]:22"});
}

TEST(AdvertisedExitRules, MalformedRulesAreRefused) {
  for (const char* bad : {"allow *:80", "accept *:0", "accept *:70000", "accept *:9-8",
                          "accept :80", "accept *", "accept a b:80", "accept *:8x"}) {
    EXPECT_FALSE(AdvertisedExitRules::parse_rule(bad).has_value()) << bad;
  }
}

TEST(AdvertisedExitRules, TextRoundTripsInCanonicalForm) {
  auto policy =
      AdvertisedExitRules::parse({"accept *:1-65535", "reject Host.Example:7", "accept *:10-20"});
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(policy->to_text(),
            (std::vector<std::string>{"accept *:*", "reject host.example:7", "accept *:10-20"}));
}

TEST(AdvertisedExitRules, MalformedDestinationsAreRefused) {
  auto rules = AdvertisedExitRules::parse({"accept *:*"});
  ASSERT_TRUE(rules.has_value());
  EXPECT_TRUE(rules->allows("h:1"));
  for (const char* bad : {"h", ":80", "h:", "h:0", "[]:80", "[::1:80", "::1:80", "h:65536"}) {
    EXPECT_FALSE(rules->allows(bad)) << bad;
  }
}

}  // namespace
}  // namespace nyx::document
