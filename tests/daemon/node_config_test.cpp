#include "daemon/node_config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/support/parse_config.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

const std::filesystem::path kExample =
    (std::filesystem::path(__FILE__).parent_path() / "../../docs/nyxd.example.toml")
        .lexically_normal();

constexpr const char* kAuthority =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

// The smallest valid config, plus `extra` lines.
std::string minimal(const std::string& extra = "") {
  return std::string("[node]\ndata_dir = \"/tmp/nyx-test-data\"\n") +
         "[directory]\nfile = \"/tmp/nyx-test-dir.bin\"\nauthorities = [\"" + kAuthority + "\"]\n" +
         extra;
}

// minimal() with a roles line in its [node] table.
std::string with_roles(const std::string& roles) {
  return minimal().replace(0, 7, "[node]\nroles = " + roles + "\n");
}

std::string errors_of(const std::string& text) {
  auto config = test::parse_config_text(text);
  EXPECT_FALSE(config.has_value()) << "expected errors in:\n" << text;
  return config ? std::string() : config.error().message;
}

TEST(NodeConfig, ExampleParses) {
  auto config = load_node_config(kExample);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->mix.hops, 3U);
  EXPECT_EQ(config->socks.listen, (HostPort{"127.0.0.1", 9345}));
  EXPECT_EQ(config->node.data_dir, std::filesystem::path("/var/lib/nyx"));
  ASSERT_EQ(config->directory.authority_entries.size(), 1U);
  EXPECT_EQ(config->directory.authority_entries[0].address, (HostPort{"203.0.113.10", 9340}));
  EXPECT_EQ(config->directory.threshold, 1U);
}

TEST(NodeConfig, DataDirDefaultsToVarLibNyxAndARelativeOneResolvesAgainstTheFile) {
  auto config = test::parse_config_text(
      std::string("[directory]\nfile = \"/tmp/d\"\nauthorities = [\"") + kAuthority + "\"]\n");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->node.data_dir, std::filesystem::path("/var/lib/nyx"));
  EXPECT_FALSE(config->control.group_access);

  test::TempDir dir;
  {
    std::ofstream file(dir.path() / "nyxd.toml");
    file << "[node]\ndata_dir = \"state\"\n[control]\ngroup_access = true\n"
         << "[directory]\nfile = \"/tmp/d\"\nauthorities = [\"" << kAuthority << "\"]\n";
  }
  config = load_node_config(dir.path() / "nyxd.toml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->node.data_dir, dir.path() / "state");
  EXPECT_TRUE(config->control.group_access);
}

TEST(NodeConfig, ExampleListsEverySchemaKey) {
  auto reader = ConfigReader::from_file(kExample);
  ASSERT_TRUE(reader.has_value());
  const auto keys = node_config_keys();
  EXPECT_GE(keys.size(), 30U);
  for (const auto& key : keys) {
    EXPECT_TRUE(reader->has(key)) << key << " is missing from docs/nyxd.example.toml";
  }
}

TEST(NodeConfig, SchemaKeysCoverEverySection) {
  const auto keys = node_config_keys();
  for (const char* key : {"node.data_dir",
                          "node.roles",
                          "node.workers",
                          "log.level",
                          "log.file",
                          "directory.authorities",
                          "directory.threshold",
                          "directory.fallbacks",
                          "directory.period",
                          "directory.clock_skew",
                          "relay.advertise_udp",
                          "relay.advertise_tcp",
                          "relay.bandwidth_weight",
                          "relay.family",
                          "exit.advertise",
                          "mix.replay_rate",
                          "authority.key_file",
                          "authority.max_bandwidth_weight",
                          "authority.max_relays_per_address",
                          "authority.max_relays",
                          "authority.allow_private_addresses",
                          "transport.udp_listen",
                          "transport.peer_rate",
                          "mix.hops",
                          "mix.cover_rate",
                          "mix.distinct_subnets",
                          "mix.mix_delay_mean",
                          "socks.listen",
                          "socks.handshake_timeout",
                          "exit.policy",
                          "exit.allow_private",
                          "exit.reject_own_addresses",
                          "socks.allow_remote_clients",
                          "control.enabled",
                          "metrics.listen",
                          "metrics.allow",
                          "shutdown.drain_deadline"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
}

TEST(NodeConfig, DefaultsOfAMinimalConfig) {
  auto config = test::parse_config_text(minimal());
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_TRUE(config->node.roles.client);
  EXPECT_FALSE(config->node.roles.relay);
  EXPECT_EQ(config->mix.hops, 3U);
  EXPECT_EQ(config->mix.cover_rate, 0.0);
  EXPECT_TRUE(config->mix.distinct_subnets);
  EXPECT_FALSE(config->transport.tcp_listen.has_value());
  EXPECT_FALSE(config->metrics.listen.has_value());
  EXPECT_EQ(config->shutdown.drain_deadline, std::chrono::seconds(5));
  EXPECT_EQ(config->directory.threshold, 1U);  // the majority of one
  EXPECT_EQ(config->directory.period, std::chrono::hours(1));
  EXPECT_EQ(config->directory.clock_skew, std::chrono::minutes(5));
  EXPECT_TRUE(config->directory.authority_entries.empty());  // the v1 list of keys
  EXPECT_EQ(config->directory.authorities.size(), 1U);
  EXPECT_FALSE(config->relay.advertise_udp.has_value());
  EXPECT_EQ(config->relay.bandwidth_weight, 100U);
  EXPECT_EQ(config->exit.advertise, (std::vector<std::string>{"reject *:*"}));
  EXPECT_EQ(config->mix.replay_rate, 200.0);
  EXPECT_EQ(config->authority.key_file, std::filesystem::path("/tmp/nyx-test-data/authority.key"));
  EXPECT_EQ(config->authority.max_relays, 10000U);
  EXPECT_TRUE(config->exit.reject_own_addresses);
  EXPECT_FALSE(config->socks.allow_remote_clients);
  EXPECT_GE(config->resolved_workers(), 1U);
}

TEST(NodeConfig, UnknownKeyNamesFileLineAndKey) {
  const auto message = errors_of(minimal("[socks]\nlisten = \"127.0.0.1:9050\"\nlsiten = 1\n"));
  EXPECT_NE(message.find("nyxd.toml:8:"), std::string::npos) << message;
  EXPECT_NE(message.find("socks.lsiten"), std::string::npos) << message;
}

TEST(NodeConfig, OutOfRangeValueNamesFileLineAndKey) {
  const auto message = errors_of(minimal("[mix]\nhops = 9\n"));
  EXPECT_NE(message.find("nyxd.toml:7:"), std::string::npos) << message;
  EXPECT_NE(message.find("mix.hops"), std::string::npos) << message;
}

TEST(NodeConfig, EveryErrorIsReportedAtOnce) {
  const auto message = errors_of("[mix]\nhops = 1\n[socks]\nlisten = 42\n");
  for (const char* key : {"directory.file", "directory.authorities", "mix.hops", "socks.listen"}) {
    EXPECT_NE(message.find(key), std::string::npos) << key << " in:\n" << message;
  }
}

TEST(NodeConfig, RolesCombineAndAreChecked) {
  // A relay needs an address to advertise and an exit an accept rule to advertise.
  auto config = test::parse_config_text(
      with_roles(R"(["client", "relay", "exit", "authority"])") +
      "[relay]\nadvertise_udp = \"203.0.113.5:9340\"\n[exit]\nadvertise = [\"accept *:443\"]\n");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_TRUE(config->node.roles.client && config->node.roles.relay && config->node.roles.exit &&
              config->node.roles.authority);
  auto authority = test::parse_config_text(with_roles(R"(["authority"])"));
  ASSERT_TRUE(authority.has_value()) << authority.error().message;
  EXPECT_EQ(authority->node.roles, (NodeRoles{.authority = true}));
  const auto unknown = errors_of(with_roles(R"(["realy"])"));
  EXPECT_NE(unknown.find("unknown role 'realy'"), std::string::npos) << unknown;
  const auto twice = errors_of(with_roles(R"(["exit", "exit"])"));
  EXPECT_NE(twice.find("given twice"), std::string::npos) << twice;
  const auto none = errors_of(with_roles("[]"));
  EXPECT_NE(none.find("node.roles"), std::string::npos) << none;
}

TEST(NodeConfig, MetricsOffLoopbackOnlyWithAnExplicitAllowList) {
  auto config = test::parse_config_text(minimal("[metrics]\nlisten = \"127.0.0.1:9190\"\n"));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->metrics.listen, (HostPort{"127.0.0.1", 9190}));
  EXPECT_EQ(config->metrics.allow, (std::vector<std::string>{"127.0.0.0/8", "::1"}));
  EXPECT_TRUE(test::parse_config_text(minimal("[metrics]\nlisten = \"[::1]:9190\"\n")).has_value());
  const auto message = errors_of(minimal("[metrics]\nlisten = \"0.0.0.0:9190\"\n"));
  EXPECT_NE(message.find("nyxd.toml:7:"), std::string::npos) << message;
  EXPECT_NE(message.find("metrics.listen"), std::string::npos) << message;
  EXPECT_NE(message.find("metrics.allow"), std::string::npos) << message;

  auto open = test::parse_config_text(
      minimal("[metrics]\nlisten = \"0.0.0.0:9190\"\nallow = [\"10.0.0.0/8\", \"fd00::/8\"]\n"));
  ASSERT_TRUE(open.has_value()) << open.error().message;
  EXPECT_EQ(open->metrics.allow, (std::vector<std::string>{"10.0.0.0/8", "fd00::/8"}));
}

// Proposal 0004, section 8.2: the SOCKS port has no authentication, so a
// non-loopback (or unspecified) address needs the operator's explicit word.
TEST(NodeConfig, SocksOnANonLoopbackAddressNeedsTheOption) {
  for (const char* address :
       {"0.0.0.0:9345", "[::]:9345", "192.0.2.1:9345", "[2001:db8::1]:9345"}) {
    const auto message = errors_of(minimal(std::string("[socks]\nlisten = \"") + address + "\"\n"));
    EXPECT_NE(message.find("nyxd.toml:7:"), std::string::npos) << address << ": " << message;
    EXPECT_NE(message.find("key 'socks.listen'"), std::string::npos) << message;
    EXPECT_NE(message.find("is not a loopback address and Nyx's SOCKS port has no "
                           "authentication; set socks.allow_remote_clients = true"),
              std::string::npos)
        << message;
  }
  for (const char* address : {"127.0.0.1:9345", "127.0.0.2:9050", "[::1]:9345"}) {
    auto loopback =
        test::parse_config_text(minimal(std::string("[socks]\nlisten = \"") + address + "\"\n"));
    EXPECT_TRUE(loopback.has_value()) << address << ": " << loopback.error().message;
  }
  auto open = test::parse_config_text(
      minimal("[socks]\nlisten = \"0.0.0.0:9345\"\nallow_remote_clients = true\n"));
  ASSERT_TRUE(open.has_value()) << open.error().message;
  EXPECT_TRUE(open->socks.allow_remote_clients);
  EXPECT_EQ(open->socks.listen, (HostPort{"0.0.0.0", 9345}));
  // Without the client role no SOCKS port is opened.
  auto authority = test::parse_config_text(with_roles(R"(["authority"])") +
                                           "[socks]\nlisten = \"0.0.0.0:9345\"\n");
  EXPECT_TRUE(authority.has_value()) << authority.error().message;
}

TEST(NodeConfig, MetricsAllowEntriesAreChecked) {
  for (const char* bad : {R"(["10.0.0.0/33"])", R"(["10.1.2.3/8"])", R"(["example.org"])",
                          R"(["10.0.0.0/"])", R"(["::1/129"])", "[]"}) {
    const auto message = errors_of(minimal(std::string("[metrics]\nallow = ") + bad + "\n"));
    EXPECT_NE(message.find("nyxd.toml:7:"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("metrics.allow"), std::string::npos) << bad << ": " << message;
  }
}

TEST(NodeConfig, AuthoritiesAndThresholdAreChecked) {
  const auto bad_key = errors_of(
      "[node]\ndata_dir = \"/tmp/x\"\n[directory]\nfile = \"/tmp/d\"\nauthorities = [\"abcd\"]\n");
  EXPECT_NE(bad_key.find("nyxd.toml:5:"), std::string::npos) << bad_key;
  EXPECT_NE(bad_key.find("64 hex digits"), std::string::npos) << bad_key;
  const auto threshold = errors_of(minimal("threshold = 2\n"));
  EXPECT_NE(threshold.find("directory.threshold"), std::string::npos) << threshold;
}

TEST(NodeConfig, ExitPolicyAndTransportAreChecked) {
  const auto policy = errors_of(minimal("[exit]\npolicy = [\"allow *:80\"]\n"));
  EXPECT_NE(policy.find("exit.policy"), std::string::npos) << policy;
  auto ok =
      test::parse_config_text(minimal("[exit]\npolicy = [\"accept 127.0.0.1:*\", \"reject *:*\"]\n"
                                      "allow_private = true\n"));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->exit.policy.size(), 2U);
  const auto tcp_only = errors_of(minimal("[transport]\nudp_enabled = false\n"));
  EXPECT_NE(tcp_only.find("tcp_listen"), std::string::npos) << tcp_only;
}

TEST(NodeConfig, MissingFileIsAnError) {
  auto config = load_node_config("/nonexistent/nyxd.toml");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("/nonexistent/nyxd.toml"), std::string::npos);
}

TEST(NodeConfig, StreamCongestionPicksTheControllerAndBbrIsTheDefault) {
  auto config = test::parse_config_text(minimal());
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->stream.congestion, stream::CongestionAlgorithm::kBbr);
  auto new_reno = test::parse_config_text(minimal("[stream]\ncongestion = \"newreno\"\n"));
  ASSERT_TRUE(new_reno.has_value()) << new_reno.error().message;
  EXPECT_EQ(new_reno->stream.congestion, stream::CongestionAlgorithm::kNewReno);
  const auto message = errors_of(minimal("[stream]\ncongestion = \"cubic\"\n"));
  EXPECT_NE(message.find("stream.congestion"), std::string::npos) << message;
}

}  // namespace
}  // namespace nyx::daemon
