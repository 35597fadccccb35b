// The configuration keys of proposal 0002, section 10.2: every rule at its
// bounds, and every bad value reported with the file, the line and the key.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "daemon/node_config.hpp"
#include "daemon/support/parse_config.hpp"

namespace nyx::daemon {
namespace {

// Authority i's keys: distinct for every i, 64 hex digits each.
std::string key_hex(int i) { return fmt::format("{:064x}", 0x1000 + i); }
std::string link_hex(int i) { return fmt::format("{:064x}", 0x2000 + i); }

std::string entry(int i, const std::string& address = "203.0.113.10:9340") {
  return fmt::format(R"({{ key = "{}", link = "{}", address = "{}" }})", key_hex(i), link_hex(i),
                     address);
}

// `n` authorities on one line.
std::string authorities(int n) {
  std::vector<std::string> entries;
  for (int i = 0; i < n; ++i) {
    entries.push_back(entry(i));
  }
  return fmt::format("authorities = [{}]", fmt::join(entries, ", "));
}

// Line 5 holds the authorities; `extra` starts on line 6, still in [directory].
std::string config(const std::string& authorities_line, const std::string& extra = "") {
  return "[node]\ndata_dir = \"/tmp/nyx-test-data\"\n[directory]\nfile = \"/tmp/nyx-dir.bin\"\n" +
         authorities_line + "\n" + extra;
}

// Three authorities, then `extra` from line 6.
std::string three(const std::string& extra = "") { return config(authorities(3), extra); }

// Parsing fails, and one error names the file and `line`, the key and `words`.
::testing::AssertionResult refused_at(const std::string& text, int line, std::string_view key,
                                      std::string_view words = "") {
  auto parsed = test::parse_config_text(text);
  if (parsed) {
    return ::testing::AssertionFailure() << "accepted:\n" << text;
  }
  const std::string& message = parsed.error().message;
  const std::string place = fmt::format("nyxd.toml:{}:", line);
  const std::string named = fmt::format("key '{}'", key);
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t end = message.find('\n', start);
    end = end == std::string::npos ? message.size() : end;
    const std::string_view error(message.data() + start, end - start);
    if (error.starts_with(place) && error.find(named) != std::string_view::npos &&
        error.find(words) != std::string_view::npos) {
      return ::testing::AssertionSuccess();
    }
    start = end + 1;
  }
  return ::testing::AssertionFailure()
         << "no error at " << place << " naming " << named << " and '" << words << "' in:\n"
         << message;
}

NodeConfig accepted(const std::string& text) {
  auto parsed = test::parse_config_text(text);
  EXPECT_TRUE(parsed.has_value()) << parsed.error().message << "\nin:\n" << text;
  return parsed.value_or(NodeConfig{});
}

TEST(NodeConfigDirectory, AuthorityEntriesAreParsed) {
  const auto parsed = accepted(config(
      "authorities = [" + entry(0) + R"(, { key = ")" + key_hex(1) + R"(", link = ")" +
      link_hex(1) + R"(", address = "[2001:db8::1]:9340", tcp_address = "198.51.100.1:443" }])"));
  ASSERT_EQ(parsed.directory.authority_entries.size(), 2U);
  const auto& first = parsed.directory.authority_entries[0];
  EXPECT_EQ(first.address, (HostPort{"203.0.113.10", 9340}));
  EXPECT_FALSE(first.tcp_address.has_value());
  EXPECT_EQ(first.key[31], 0x00);
  EXPECT_EQ(first.key[30], 0x10);
  EXPECT_EQ(first.link[30], 0x20);
  const auto& second = parsed.directory.authority_entries[1];
  EXPECT_EQ(second.address, (HostPort{"2001:db8::1", 9340}));
  EXPECT_EQ(second.tcp_address, (HostPort{"198.51.100.1", 443}));
  EXPECT_EQ(parsed.directory.authorities,
            (std::vector<crypto::Ed25519PublicKey>{first.key, second.key}));
}

TEST(NodeConfigDirectory, OneToThirtyTwoAuthorities) {
  EXPECT_EQ(accepted(config(authorities(1))).directory.authority_entries.size(), 1U);
  EXPECT_EQ(accepted(config(authorities(32))).directory.authority_entries.size(), 32U);
  EXPECT_TRUE(refused_at(config(authorities(33)), 5, "directory.authorities", "1 to 32"));
  EXPECT_TRUE(refused_at(config("authorities = []"), 5, "directory.authorities", "1 to 32"));
}

TEST(NodeConfigDirectory, AuthorityKeysAreSixtyFourHexDigits) {
  const std::string short_key =
      fmt::format(R"(authorities = [{{ key = "{}", link = "{}", address = "203.0.113.10:9340" }}])",
                  key_hex(0).substr(2), link_hex(0));
  EXPECT_TRUE(refused_at(config(short_key), 5, "directory.authorities[0].key", "64 hex digits"));
  const std::string bad_link = fmt::format(
      R"(authorities = [{{ key = "{}", link = "{}zz", address = "203.0.113.10:9340" }}])",
      key_hex(0), link_hex(0).substr(2));
  EXPECT_TRUE(refused_at(config(bad_link), 5, "directory.authorities[0].link", "64 hex digits"));
}

TEST(NodeConfigDirectory, AuthorityFieldsAreRequired) {
  const std::string no_link =
      fmt::format(R"(authorities = [{{ key = "{}", address = "203.0.113.10:9340" }}])", key_hex(0));
  EXPECT_TRUE(refused_at(config(no_link), 5, "directory.authorities[0]", "missing 'link'"));
  const std::string no_address = fmt::format(R"(authorities = [{}, {{ key = "{}", link = "{}" }}])",
                                             entry(0), key_hex(1), link_hex(1));
  EXPECT_TRUE(refused_at(config(no_address), 5, "directory.authorities[1]", "missing 'address'"));
  EXPECT_TRUE(
      refused_at("[node]\ndata_dir = \"/tmp/x\"\n[directory]\nfile = \"/tmp/d\"\n"
                 "authorities = [{ kye = \"00\" }]\n",
                 5, "directory.authorities[0]"));
}

TEST(NodeConfigDirectory, AuthorityAddressesAreIpLiteralsWithAPort) {
  EXPECT_TRUE(refused_at(config("authorities = [" + entry(0, "auth.example.org:9340") + "]"), 5,
                         "directory.authorities[0].address", "IP literal"));
  EXPECT_TRUE(refused_at(config("authorities = [" + entry(0, "203.0.113.10:0") + "]"), 5,
                         "directory.authorities[0].address", "IP literal"));
  EXPECT_TRUE(refused_at(config("authorities = [" + entry(0, "203.0.113.10") + "]"), 5,
                         "directory.authorities[0].address"));
  const std::string tcp_name =
      fmt::format(R"(authorities = [{{ key = "{}", link = "{}", address = "203.0.113.10:9340", )"
                  R"(tcp_address = "auth.example.org:443" }}])",
                  key_hex(0), link_hex(0));
  EXPECT_TRUE(
      refused_at(config(tcp_name), 5, "directory.authorities[0].tcp_address", "IP literal"));
}

TEST(NodeConfigDirectory, NoAuthorityKeyOrLinkTwice) {
  const std::string same_key = fmt::format(
      R"(authorities = [{}, {{ key = "{}", link = "{}", address = "203.0.113.11:1" }}])", entry(0),
      key_hex(0), link_hex(1));
  EXPECT_TRUE(refused_at(config(same_key), 5, "directory.authorities[1].key", "twice"));
  const std::string same_link = fmt::format(
      R"(authorities = [{}, {{ key = "{}", link = "{}", address = "203.0.113.11:1" }}])", entry(0),
      key_hex(1), link_hex(0));
  EXPECT_TRUE(refused_at(config(same_link), 5, "directory.authorities[1].link", "twice"));
}

TEST(NodeConfigDirectory, TheV1ListOfKeysIsStillRead) {
  const auto parsed =
      accepted(config(fmt::format(R"(authorities = ["{}", "{}"])", key_hex(0), key_hex(1))));
  EXPECT_EQ(parsed.directory.authorities.size(), 2U);
  EXPECT_TRUE(parsed.directory.authority_entries.empty());
  EXPECT_EQ(parsed.directory.threshold, 2U);
  EXPECT_TRUE(
      refused_at(config(R"(authorities = ["abcd"])"), 5, "directory.authorities", "64 hex digits"));
}

TEST(NodeConfigDirectory, WithoutAFileTheConsensusIsFetchedFromTheEntries) {
  const std::string no_file = "[node]\ndata_dir = \"/tmp/nyx-test-data\"\n[directory]\n";
  EXPECT_TRUE(accepted(no_file + authorities(3) + "\n").directory.fetches_consensus());
  EXPECT_FALSE(accepted(three()).directory.fetches_consensus());
  // The v1 list of keys says nowhere to fetch from: it needs the file.
  auto v1 =
      test::parse_config_text(no_file + fmt::format(R"(authorities = ["{}"])", key_hex(0)) + "\n");
  ASSERT_FALSE(v1.has_value());
  EXPECT_NE(v1.error().message.find("directory.file"), std::string::npos) << v1.error().message;
}

TEST(NodeConfigDirectory, ThresholdZeroIsTheMajority) {
  EXPECT_EQ(accepted(config(authorities(1))).directory.threshold, 1U);
  EXPECT_EQ(accepted(three()).directory.threshold, 2U);
  EXPECT_EQ(accepted(three("threshold = 0\n")).directory.threshold, 2U);
  EXPECT_EQ(accepted(config(authorities(4))).directory.threshold, 3U);
}

TEST(NodeConfigDirectory, ThresholdLiesBetweenAMajorityAndAll) {
  EXPECT_EQ(accepted(three("threshold = 2\n")).directory.threshold, 2U);
  EXPECT_EQ(accepted(three("threshold = 3\n")).directory.threshold, 3U);
  EXPECT_TRUE(refused_at(three("threshold = 1\n"), 6, "directory.threshold",
                         "two disjoint minorities could each sign a consensus"));
  EXPECT_TRUE(
      refused_at(config(authorities(4), "threshold = 2\n"), 6, "directory.threshold", "majority"));
  EXPECT_TRUE(refused_at(three("threshold = 4\n"), 6, "directory.threshold", "exceeds"));
  EXPECT_TRUE(refused_at(three("threshold = 33\n"), 6, "directory.threshold", "out of range"));
}

TEST(NodeConfigDirectory, FallbacksAreLinkKeysAndAddresses) {
  const auto parsed = accepted(
      three(fmt::format(R"(fallbacks = [{{ link = "{}", address = "198.51.100.7:9340" }}])",
                        link_hex(9)) +
            "\n"));
  ASSERT_EQ(parsed.directory.fallbacks.size(), 1U);
  EXPECT_EQ(parsed.directory.fallbacks[0].address, (HostPort{"198.51.100.7", 9340}));
  EXPECT_EQ(parsed.directory.fallbacks[0].link[30], 0x20);
  EXPECT_TRUE(accepted(three("fallbacks = []\n")).directory.fallbacks.empty());
  EXPECT_TRUE(refused_at(three(R"(fallbacks = [{ link = "00", address = "198.51.100.7:9340" }])"
                               "\n"),
                         6, "directory.fallbacks[0].link", "64 hex digits"));
  EXPECT_TRUE(refused_at(
      three(fmt::format(R"(fallbacks = [{{ link = "{}", address = "relay.example:1" }}])",
                        link_hex(9)) +
            "\n"),
      6, "directory.fallbacks[0].address", "IP literal"));
  EXPECT_TRUE(refused_at(three(R"(fallbacks = [{ address = "198.51.100.7:9340" }])"
                               "\n"),
                         6, "directory.fallbacks[0]", "missing 'link'"));
}

TEST(NodeConfigDirectory, PeriodIsAMultipleOfTwelveSecondsThatDividesADay) {
  for (const char* good : {"24s", "36s", "1h", "24h"}) {
    const auto parsed =
        accepted(three(fmt::format("period = \"{}\"\nclock_skew = \"1s\"\n", good)));
    EXPECT_EQ(parsed.directory.period, parse_duration(good).value()) << good;
  }
  for (const char* bad : {"12s", "0s", "25s", "84s", "48h", "24500ms"}) {
    EXPECT_TRUE(refused_at(three(fmt::format("period = \"{}\"\nclock_skew = \"1s\"\n", bad)), 6,
                           "directory.period"))
        << bad;
  }
  EXPECT_TRUE(refused_at(three("period = \"25s\"\n"), 6, "directory.period", "multiple of 12 s"));
  EXPECT_TRUE(refused_at(three("period = \"24500ms\"\n"), 6, "directory.period", "whole"));
}

TEST(NodeConfigDirectory, ClockSkewIsAtMostATwelfthOfThePeriod) {
  // An hour: a twelfth is 300 s, and 2·300 s + 10 s is well under half of it.
  EXPECT_EQ(accepted(three("clock_skew = \"300s\"\n")).directory.clock_skew,
            std::chrono::seconds(300));
  EXPECT_EQ(accepted(three("clock_skew = \"0s\"\n")).directory.clock_skew, std::chrono::seconds(0));
  EXPECT_TRUE(refused_at(three("clock_skew = \"301s\"\n"), 6, "directory.clock_skew", "period/12"));
  EXPECT_TRUE(refused_at(three("period = \"24s\"\nclock_skew = \"3s\"\n"), 7,
                         "directory.clock_skew", "period/12"));
}

TEST(NodeConfigDirectory, TwiceTheSkewPlusSetupIsAtMostHalfThePeriod) {
  // 24 s: a twelfth is 2 s, but 2·skew + 10 s ≤ 12 s allows 1 s at most.
  EXPECT_EQ(accepted(three("period = \"24s\"\nclock_skew = \"1s\"\n")).directory.clock_skew,
            std::chrono::seconds(1));
  EXPECT_TRUE(refused_at(three("period = \"24s\"\nclock_skew = \"1001ms\"\n"), 7,
                         "directory.clock_skew", "period/2"));
  EXPECT_TRUE(refused_at(three("period = \"24s\"\nclock_skew = \"2s\"\n"), 7,
                         "directory.clock_skew", "period/2"));
}

// The relay keys from line 7, after [relay] on line 6; no [relay] without keys
// (an empty table is an unknown key).
std::string relay(const std::string& roles, const std::string& keys,
                  const std::string& udp_listen = "0.0.0.0:9340") {
  return "[node]\ndata_dir = \"/tmp/nyx-test-data\"\nroles = " + roles +
         "\n[transport]\nudp_listen = \"" + udp_listen + "\"\n" +
         (keys.empty() ? "" : "[relay]\n" + keys) + "[directory]\n" +
         "file = \"/tmp/nyx-dir.bin\"\n" + authorities(1) + "\n";
}

TEST(NodeConfigRelay, AdvertisedUdpComesFromAGlobalListenAddress) {
  const auto derived = accepted(relay(R"(["relay"])", "", "198.51.100.7:9340"));
  EXPECT_EQ(derived.relay.advertise_udp, (HostPort{"198.51.100.7", 9340}));
  const auto given =
      accepted(relay(R"(["relay"])", "advertise_udp = \"203.0.113.5:443\"\n", "0.0.0.0:9340"));
  EXPECT_EQ(given.relay.advertise_udp, (HostPort{"203.0.113.5", 443}));
  // Without the relay role nothing is advertised, so nothing is needed.
  EXPECT_FALSE(accepted(relay(R"(["client"])", "")).relay.advertise_udp.has_value());
  for (const char* listen : {"0.0.0.0:9340", "127.0.0.1:9340", "10.0.0.1:9340", "[::]:9340"}) {
    EXPECT_TRUE(refused_at(relay(R"(["relay"])", "advertise_udp = \"\"\n", listen), 7,
                           "relay.advertise_udp", "required with the relay role"))
        << listen;
  }
}

TEST(NodeConfigRelay, AdvertisedAddressesAreIpLiteralsWithAPort) {
  const auto both = accepted(
      relay(R"(["relay"])",
            "advertise_udp = \"[2001:db8::5]:9340\"\nadvertise_tcp = \"203.0.113.5:443\"\n"));
  EXPECT_EQ(both.relay.advertise_tcp, (HostPort{"203.0.113.5", 443}));
  EXPECT_TRUE(refused_at(relay(R"(["relay"])", "advertise_udp = \"relay.example.org:9340\"\n"), 7,
                         "relay.advertise_udp", "IP literal"));
  EXPECT_TRUE(refused_at(relay(R"(["relay"])", "advertise_udp = \"203.0.113.5:0\"\n"), 7,
                         "relay.advertise_udp", "IP literal"));
  EXPECT_TRUE(refused_at(relay(R"(["relay"])",
                               "advertise_udp = \"203.0.113.5:9340\"\n"
                               "advertise_tcp = \"relay.example.org:443\"\n"),
                         8, "relay.advertise_tcp", "IP literal"));
}

TEST(NodeConfigRelay, BandwidthWeightIsOneToTwoToTheThirtyTwoMinusOne) {
  EXPECT_EQ(accepted(relay(R"(["client"])", "bandwidth_weight = 1\n")).relay.bandwidth_weight, 1U);
  EXPECT_EQ(
      accepted(relay(R"(["client"])", "bandwidth_weight = 4294967295\n")).relay.bandwidth_weight,
      4294967295U);
  EXPECT_TRUE(refused_at(relay(R"(["client"])", "bandwidth_weight = 0\n"), 7,
                         "relay.bandwidth_weight", "out of range"));
  EXPECT_TRUE(refused_at(relay(R"(["client"])", "bandwidth_weight = 4294967296\n"), 7,
                         "relay.bandwidth_weight", "out of range"));
}

TEST(NodeConfigRelay, FamilyIsUpToSixtyFourLowerCaseLettersDigitsDotsAndDashes) {
  const std::string longest(64, 'a');
  EXPECT_EQ(accepted(relay(R"(["client"])", "family = \"" + longest + "\"\n")).relay.family,
            longest);
  EXPECT_EQ(accepted(relay(R"(["client"])", "family = \"relays.example-1\"\n")).relay.family,
            "relays.example-1");
  for (const std::string& bad :
       {longest + "a", std::string("Relays"), std::string("a_b"), std::string("a b")}) {
    EXPECT_TRUE(
        refused_at(relay(R"(["client"])", "family = \"" + bad + "\"\n"), 7, "relay.family", "a-z"))
        << bad;
  }
}

// relay() with one [relay] line, then [exit]: advertise is on line 12.
TEST(NodeConfigRelay, AnExitAdvertisesAtLeastOneAcceptRule) {
  const auto exit = [](const std::string& roles, const std::string& rules) {
    return relay(roles, "advertise_udp = \"203.0.113.5:9340\"\n") + "[exit]\nadvertise = " + rules +
           "\n";
  };
  const auto parsed = accepted(exit(R"(["relay", "exit"])", R"(["reject *:25", "accept *:*"])"));
  EXPECT_EQ(parsed.exit.advertise, (std::vector<std::string>{"reject *:25", "accept *:*"}));
  EXPECT_TRUE(accepted(exit(R"(["relay"])", R"(["reject *:*"])")).exit.advertise.size() == 1);
  EXPECT_TRUE(refused_at(exit(R"(["relay", "exit"])", R"(["reject *:*"])"), 12, "exit.advertise",
                         "at least one accept"));
  EXPECT_TRUE(refused_at(exit(R"(["relay"])", R"(["allow *:80"])"), 12, "exit.advertise"));
  const std::string long_rule = "accept " + std::string(50, 'a') + ".org:443";  // 65 bytes
  EXPECT_TRUE(refused_at(exit(R"(["relay", "exit"])", "[\"" + long_rule + "\"]"), 12,
                         "exit.advertise", "longer than 64 bytes"));
  std::vector<std::string> rules(64, "\"accept *:443\"");
  EXPECT_EQ(accepted(exit(R"(["exit"])", fmt::format("[{}]", fmt::join(rules, ", "))))
                .exit.advertise.size(),
            64U);
  rules.push_back("\"accept *:443\"");
  EXPECT_TRUE(refused_at(exit(R"(["exit"])", fmt::format("[{}]", fmt::join(rules, ", "))), 12,
                         "exit.advertise", "at most 64"));
}

TEST(NodeConfigRelay, ReplayRateIsPositive) {
  EXPECT_EQ(accepted(three("[mix]\nreplay_rate = 0.01\n")).mix.replay_rate, 0.01);
  EXPECT_TRUE(
      refused_at(three("[mix]\nreplay_rate = 0.0\n"), 7, "mix.replay_rate", "out of range"));
}

TEST(NodeConfigAuthority, KeyFileIsRelativeToTheDataDirectory) {
  EXPECT_EQ(accepted(three()).authority.key_file,
            std::filesystem::path("/tmp/nyx-test-data/authority.key"));
  EXPECT_EQ(accepted(three("[authority]\nkey_file = \"keys/auth.key\"\n")).authority.key_file,
            std::filesystem::path("/tmp/nyx-test-data/keys/auth.key"));
  EXPECT_TRUE(refused_at(three("[authority]\nkey_file = \"\"\n"), 7, "authority.key_file",
                         "node.data_dir"));
}

TEST(NodeConfigAuthority, CapsAreChecked) {
  const auto parsed =
      accepted(three("[authority]\nmax_bandwidth_weight = 4294967295\nmax_relays_per_address = 1\n"
                     "max_relays = 16384\nallow_private_addresses = true\n"));
  EXPECT_EQ(parsed.authority.max_bandwidth_weight, 4294967295U);
  EXPECT_EQ(parsed.authority.max_relays_per_address, 1U);
  EXPECT_EQ(parsed.authority.max_relays, 16384U);
  EXPECT_TRUE(parsed.authority.allow_private_addresses);
  EXPECT_EQ(accepted(three()).authority.max_relays_per_address, 2U);
  for (const char* bad : {"max_bandwidth_weight = 0", "max_bandwidth_weight = 4294967296",
                          "max_relays_per_address = 0", "max_relays = 0", "max_relays = 16385"}) {
    const std::string key =
        std::string("authority.") + std::string(bad).substr(0, std::string(bad).find(' '));
    EXPECT_TRUE(
        refused_at(three(std::string("[authority]\n") + bad + "\n"), 7, key, "out of range"))
        << bad;
  }
  EXPECT_TRUE(refused_at(three("[authority]\nallow_private_addresses = 1\n"), 7,
                         "authority.allow_private_addresses"));
}

}  // namespace
}  // namespace nyx::daemon
