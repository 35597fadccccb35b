#include "core/config.hpp"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace nyx {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ConfigReader parse(std::string_view text) {
  auto reader = ConfigReader::from_string(text, "nyxd.toml");
  EXPECT_TRUE(reader) << reader.error().to_string();
  return *std::move(reader);
}

// finish() must fail; returns its message lines.
std::vector<std::string> finish_errors(ConfigReader& reader) {
  const auto status = reader.finish();
  EXPECT_FALSE(status);
  if (status) {
    return {};
  }
  EXPECT_EQ(status.error().category, ErrorCategory::kConfig);
  std::vector<std::string> lines;
  std::string_view rest = status.error().message;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    lines.emplace_back(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  }
  EXPECT_EQ(lines, reader.errors());
  return lines;
}

TEST(Config, ReadsTypedValuesWithDefaults) {
  auto reader = parse(R"(
[node]
name = "relay-1"
relay = true
workers = 4
cover_rate = 0.5
keepalive = "250ms"
idle_timeout = "2m"
peers = ["a", "b"]
key_file = "/var/lib/nyx/identity.key"

[socks]
listen = "127.0.0.1:9050"
)");
  EXPECT_EQ(reader.get_string("node.name", "x"), "relay-1");
  EXPECT_TRUE(reader.get_bool("node.relay", false));
  EXPECT_EQ(reader.get_int<int>("node.workers", 1, 1, 64), 4);
  EXPECT_DOUBLE_EQ(reader.get_double("node.cover_rate", 0.0, 0.0, 100.0), 0.5);
  EXPECT_EQ(reader.get_duration("node.keepalive", seconds(1)), milliseconds(250));
  EXPECT_EQ(reader.get_duration("node.idle_timeout", seconds(1)), minutes(2));
  EXPECT_THAT(reader.get_string_list("node.peers", {}), ElementsAre("a", "b"));
  EXPECT_EQ(reader.get_path("node.key_file", {}), "/var/lib/nyx/identity.key");
  EXPECT_EQ(reader.get_host_port("socks.listen", {}), (HostPort{"127.0.0.1", 9050}));

  // Absent keys give the default and no error.
  EXPECT_EQ(reader.get_string("node.nickname", "anon"), "anon");
  EXPECT_EQ(reader.get_int<std::uint16_t>("metrics.port", 9100), 9100);
  EXPECT_FALSE(reader.get_bool("metrics.enabled", false));
  EXPECT_EQ(reader.get_duration("socks.timeout", seconds(30)), seconds(30));
  EXPECT_TRUE(reader.has("socks.listen"));
  EXPECT_FALSE(reader.has("socks.nothing"));
  EXPECT_TRUE(reader.finish()) << reader.finish().error().message;
}

TEST(Config, WrongTypeNamesFileLineColumnAndKey) {
  auto reader = parse(R"(# comment
[socks]
listen = 42
)");
  EXPECT_EQ(reader.get_host_port("socks.listen", {"127.0.0.1", 1}), (HostPort{"127.0.0.1", 1}));
  EXPECT_THAT(finish_errors(reader),
              ElementsAre("nyxd.toml:3:10: key 'socks.listen': expected \"host:port\", got 42"));
}

TEST(Config, EveryTypeCheckIsReportedAndAllErrorsAreCollected) {
  auto reader = parse(R"(
name = 7
relay = "yes"
workers = 1.5
rate = "fast"
delay = 250
peers = ["a", 2]
key = ""
listen = "::1:80"
)");
  reader.get_string("name", "");
  reader.get_bool("relay", false);
  reader.get_int<int>("workers", 1);
  reader.get_double("rate", 1.0);
  reader.get_duration("delay", seconds(1));
  EXPECT_THAT(reader.get_string_list("peers", {"x"}), ElementsAre("x"));
  reader.get_path("key", {});
  reader.get_host_port("listen", {});
  EXPECT_THAT(
      finish_errors(reader),
      ElementsAre("nyxd.toml:2:8: key 'name': expected a string, got 7",
                  "nyxd.toml:3:9: key 'relay': expected true or false, got \"yes\"",
                  "nyxd.toml:4:11: key 'workers': expected an integer, got 1.5",
                  "nyxd.toml:5:8: key 'rate': expected a number, got \"fast\"",
                  "nyxd.toml:6:9: key 'delay': expected a duration like \"250ms\", got 250",
                  "nyxd.toml:7:15: key 'peers[1]': expected a string, got 2",
                  "nyxd.toml:8:7: key 'key': expected a file path, got \"\"",
                  HasSubstr("nyxd.toml:9:10: key 'listen': an IPv6 address needs brackets")));
}

TEST(Config, QuotedValuesAreEscapedSoEachErrorIsOneLine) {
  auto reader = parse("relay = \"\"\"two\nlines \\\"q\\\"\"\"\"\n");
  reader.get_bool("relay", false);
  EXPECT_THAT(
      finish_errors(reader),
      ElementsAre(R"(nyxd.toml:1:9: key 'relay': expected true or false, got "two\nlines \"q\"")"));
}

TEST(Config, RangesAreChecked) {
  auto reader = parse(R"(
workers = 0
port = 70000
ratio = 1.5
timeout = "2h"
nan = nan
)");
  EXPECT_EQ(reader.get_int<int>("workers", 2, 1, 64), 2);
  EXPECT_EQ(reader.get_int<std::uint16_t>("port", 80), 80);
  EXPECT_EQ(reader.get_double("ratio", 0.5, 0.0, 1.0), 0.5);
  EXPECT_EQ(reader.get_duration("timeout", seconds(5), seconds(1), minutes(10)), seconds(5));
  EXPECT_EQ(reader.get_double("nan", 1.0), 1.0);
  EXPECT_THAT(finish_errors(reader),
              ElementsAre("nyxd.toml:2:11: key 'workers': 0 is out of range [1, 64]",
                          "nyxd.toml:3:8: key 'port': 70000 is out of range [0, 65535]",
                          "nyxd.toml:4:9: key 'ratio': 1.5 is out of range [0, 1]",
                          HasSubstr("nyxd.toml:5:11: key 'timeout': 2h is out of range"),
                          HasSubstr("nyxd.toml:6:7: key 'nan': nan is out of range")));
}

TEST(Config, UnknownKeysAreErrorsWithTheirPlace) {
  auto reader = parse(R"(
[socks]
listen = "127.0.0.1:9050"
lisen = "127.0.0.1:9051"

[metrcs]
listen = "127.0.0.1:9100"

[empty]
)");
  reader.get_host_port("socks.listen", {});
  reader.get_host_port("metrics.listen", {});
  EXPECT_THAT(finish_errors(reader), ElementsAre("nyxd.toml:4:1: unknown key 'socks.lisen'",
                                                 "nyxd.toml:6:2: unknown key 'metrcs'",
                                                 "nyxd.toml:9:2: unknown key 'empty'"));
}

TEST(Config, ErrorsComeInFileOrderWhateverTheReadingOrder) {
  auto reader = parse("a = 1\nb = 2\nc = 3\n");
  reader.get_string("c", "");
  reader.get_string("a", "");
  const auto errors = finish_errors(reader);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_THAT(errors[0], HasSubstr(":1:5: key 'a'"));
  EXPECT_THAT(errors[1], HasSubstr(":2:1: unknown key 'b'"));
  EXPECT_THAT(errors[2], HasSubstr(":3:5: key 'c'"));
}

TEST(Config, ArraysOfTablesAreReadByIndex) {
  auto reader = parse(R"(
[[peers]]
address = "10.0.0.1:4000"
weight = 3

[[peers]]
address = "[2001:db8::1]:4000"
wieght = 5
)");
  ASSERT_EQ(reader.table_count("peers"), 2u);
  EXPECT_EQ(reader.get_host_port("peers[0].address", {}), (HostPort{"10.0.0.1", 4000}));
  EXPECT_EQ(reader.get_int<int>("peers[0].weight", 1), 3);
  EXPECT_EQ(reader.get_host_port("peers[1].address", {}), (HostPort{"2001:db8::1", 4000}));
  EXPECT_EQ(reader.get_int<int>("peers[1].weight", 1), 1);
  EXPECT_EQ(reader.table_count("absent"), 0u);
  EXPECT_THAT(finish_errors(reader), ElementsAre("nyxd.toml:8:1: unknown key 'peers[1].wieght'"));
}

TEST(Config, TableCountRejectsOtherTypes) {
  auto reader = parse("peers = \"none\"\n");
  EXPECT_EQ(reader.table_count("peers"), 0u);
  EXPECT_THAT(finish_errors(reader),
              ElementsAre("nyxd.toml:1:9: key 'peers': expected an array of tables ([[...]]), got "
                          "\"none\""));
}

TEST(Config, RequireAndSchemaErrors) {
  auto reader = parse("[node]\nrelay = true\n");
  reader.require("node.relay");
  reader.require("node.identity_key");
  reader.add_error("node.relay", "a relay needs node.identity_key");
  EXPECT_THAT(finish_errors(reader),
              ElementsAre("nyxd.toml: key 'node.identity_key': missing (required)",
                          "nyxd.toml:2:9: key 'node.relay': a relay needs node.identity_key"));
}

TEST(Config, SyntaxErrorsNameTheirPlace) {
  const auto reader = ConfigReader::from_string("[socks]\nlisten = \"unterminated\n", "bad.toml");
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().category, ErrorCategory::kConfig);
  EXPECT_THAT(reader.error().message, HasSubstr("bad.toml:2:"));

  const auto duplicate = ConfigReader::from_string("a = 1\na = 2\n", "dup.toml");
  ASSERT_FALSE(duplicate);
  EXPECT_THAT(duplicate.error().message, HasSubstr("dup.toml:2:"));
}

TEST(Config, FileSourceAndRelativePaths) {
  const test::TempDir temp;
  const auto& dir = temp.path();
  const auto file = dir / "nyxd.toml";
  std::ofstream(file) << "key_file = \"keys/identity.key\"\nlog = \"/var/log/nyx.log\"\nx = 1\n";

  auto reader = ConfigReader::from_file(file);
  ASSERT_TRUE(reader) << reader.error().to_string();
  EXPECT_EQ(reader->get_path("key_file", {}), dir / "keys/identity.key");
  EXPECT_EQ(reader->get_path("log", {}), "/var/log/nyx.log");
  const auto status = reader->finish();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, file.string() + ":3:1: unknown key 'x'");

  const auto missing = ConfigReader::from_file(dir / "missing.toml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().category, ErrorCategory::kIo);
  EXPECT_THAT(missing.error().message, HasSubstr("missing.toml"));
}

TEST(DurationParse, UnitsAndErrors) {
  EXPECT_EQ(parse_duration("10ns").value(), nanoseconds(10));
  EXPECT_EQ(parse_duration("7us").value(), std::chrono::microseconds(7));
  EXPECT_EQ(parse_duration("250ms").value(), milliseconds(250));
  EXPECT_EQ(parse_duration("5s").value(), seconds(5));
  EXPECT_EQ(parse_duration("2m").value(), minutes(2));
  EXPECT_EQ(parse_duration("1h").value(), std::chrono::hours(1));
  EXPECT_EQ(parse_duration("0s").value(), nanoseconds(0));
  for (const auto* bad : {"", "5", "s", "ms", "1.5s", "-1s", "5 s", "5sec", "5S", "99999999999h"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

}  // namespace
}  // namespace nyx
