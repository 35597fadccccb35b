// The testnet's plan, configs and state file, without starting processes
// (tests/integration/cli_testnet_test.sh starts real ones).
#include "cli/testnet.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/config.hpp"
#include "document/exit_rules.hpp"

namespace nyx::cli {
namespace {

TEST(PlanTestnet, ClientRelaysAndOneExitOnConsecutivePorts) {
  auto testnet = plan_testnet({5, "/tmp/tn", 20000});
  ASSERT_TRUE(testnet) << testnet.error().to_string();
  ASSERT_EQ(testnet->nodes.size(), 5u);
  EXPECT_TRUE(testnet->nodes[0].is_client());
  EXPECT_EQ(testnet->nodes[0].socks_port, 20005);
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(testnet->nodes[i].roles, (std::vector<std::string>{"relay", "authority"}));
    EXPECT_EQ(testnet->nodes[i].socks_port, 0);
  }
  EXPECT_TRUE(testnet->nodes[4].is_exit());
  EXPECT_FALSE(testnet->nodes[4].is_authority());
  EXPECT_EQ(testnet->relay_count(), 4u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(testnet->nodes[i].udp_port, 20000 + i);
    EXPECT_EQ(testnet->nodes[i].name, "node" + std::to_string(i + 1));
  }
  EXPECT_EQ(testnet->socks_port(), 20005);
  EXPECT_EQ(testnet->config(testnet->nodes[2]), std::filesystem::path("/tmp/tn/node3/nyxd.toml"));
}

TEST(PlanTestnet, RefusesTooFewNodesAndPortsPastTheEnd) {
  EXPECT_FALSE(plan_testnet({4, "/tmp/tn", 20000}));
  EXPECT_FALSE(plan_testnet({65, "/tmp/tn", 20000}));
  EXPECT_FALSE(plan_testnet({5, "/tmp/tn", 65532}));
  EXPECT_FALSE(plan_testnet({5, "/tmp/tn", 80}));
  EXPECT_TRUE(plan_testnet({64, "/tmp/tn", 65535 - 64}));
}

// The first three relays vote, whatever the size; the rest only relay.
TEST(PlanTestnet, TheFirstThreeRelaysAreTheAuthorities) {
  auto testnet = plan_testnet({8, "/tmp/tn", 20000});
  ASSERT_TRUE(testnet);
  std::vector<std::string> authorities;
  for (const auto& node : testnet->nodes) {
    if (node.is_authority()) {
      authorities.push_back(node.name);
    }
  }
  EXPECT_EQ(authorities, (std::vector<std::string>{"node2", "node3", "node4"}));
  EXPECT_EQ(testnet->relay_count(), 7u);
}

// Three authorities as generate_testnet_files records them.
void add_authorities(Testnet& testnet) {
  for (const char* name : {"node2", "node3", "node4"}) {
    for (const auto& node : testnet.nodes) {
      if (node.name == name) {
        const std::string address = fmt::format("{}:{}", node.address, node.udp_port);
        testnet.authorities.push_back({.name = name,
                                       .key = std::string(64, name[4]),
                                       .link = std::string(64, 'f'),
                                       .address = address,
                                       .tcp_address = address});
      }
    }
  }
}

// The generated config as nyxd's reader sees it: the keys and values nyxd's
// schema (docs/nyxd.example.toml) expects.
TEST(NodeConfigText, GivesEachRoleWhatItNeeds) {
  auto testnet = plan_testnet({5, "/tmp/tn", 20000});
  ASSERT_TRUE(testnet);
  add_authorities(*testnet);

  auto client =
      ConfigReader::from_string(node_config_text(*testnet, testnet->nodes[0]), "node1.toml");
  ASSERT_TRUE(client) << client.error().to_string();
  EXPECT_EQ(client->get_string_list("node.roles", {}), std::vector<std::string>{"client"});
  EXPECT_EQ(client->get_host_port("transport.udp_listen", {}), (HostPort{"127.0.0.1", 20000}));
  EXPECT_FALSE(client->has("transport.tcp_listen"));
  EXPECT_EQ(client->get_host_port("socks.listen", {}), (HostPort{"127.0.0.1", 20005}));
  EXPECT_FALSE(client->has("exit.allow_private"));
  EXPECT_FALSE(client->has("relay.advertise_udp"));
  EXPECT_FALSE(client->has("authority.allow_private_addresses"));

  auto authority =
      ConfigReader::from_string(node_config_text(*testnet, testnet->nodes[1]), "node2.toml");
  ASSERT_TRUE(authority) << authority.error().to_string();
  EXPECT_EQ(authority->get_string_list("node.roles", {}),
            (std::vector<std::string>{"relay", "authority"}));
  EXPECT_EQ(authority->get_host_port("transport.tcp_listen", {}), (HostPort{"127.0.0.1", 20001}));
  EXPECT_EQ(authority->get_host_port("relay.advertise_udp", {}), (HostPort{"127.0.0.1", 20001}));
  EXPECT_EQ(authority->get_host_port("relay.advertise_tcp", {}), (HostPort{"127.0.0.1", 20001}));
  EXPECT_TRUE(authority->get_bool("authority.allow_private_addresses", false));
  EXPECT_EQ(authority->get_int<std::size_t>("authority.max_relays_per_address", 0),
            kTestnetMaxNodes);

  auto exit =
      ConfigReader::from_string(node_config_text(*testnet, testnet->nodes[4]), "node5.toml");
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->get_bool("exit.allow_private", false));
  EXPECT_EQ(exit->get_string_list("exit.policy", {}), testnet_exit_policy());
  EXPECT_EQ(exit->get_string_list("exit.advertise", {}), testnet_exit_policy());
  EXPECT_EQ(exit->get_host_port("relay.advertise_udp", {}), (HostPort{"127.0.0.1", 20004}));
  EXPECT_FALSE(exit->has("socks.listen"));
  EXPECT_FALSE(exit->has("authority.allow_private_addresses"));
}

// Every node lists every authority, with the testnet's period, and no file.
TEST(NodeConfigText, ListsEveryAuthorityAndNoDirectoryFile) {
  auto testnet = plan_testnet({5, "/tmp/tn", 20000});
  ASSERT_TRUE(testnet);
  add_authorities(*testnet);
  for (const auto& node : testnet->nodes) {
    auto config = ConfigReader::from_string(node_config_text(*testnet, node), node.name);
    ASSERT_TRUE(config) << config.error().to_string();
    EXPECT_FALSE(config->has("directory.file")) << node.name;
    EXPECT_EQ(config->get_string("directory.period", ""), kTestnetPeriod) << node.name;
    EXPECT_EQ(config->get_string("directory.clock_skew", ""), kTestnetClockSkew) << node.name;
    EXPECT_EQ(config->get_int<int>("directory.threshold", -1), 0) << node.name;
    ASSERT_EQ(config->table_count("directory.authorities"), 3u) << node.name;
    for (std::size_t i = 0; i < 3; ++i) {
      const std::string entry = fmt::format("directory.authorities[{}]", i);
      EXPECT_EQ(config->get_string(entry + ".key", ""), testnet->authorities[i].key);
      EXPECT_EQ(config->get_string(entry + ".link", ""), testnet->authorities[i].link);
      EXPECT_EQ(config->get_host_port(entry + ".address", {}),
                (HostPort{"127.0.0.1", static_cast<std::uint16_t>(20001 + i)}));
      EXPECT_EQ(config->get_string(entry + ".tcp_address", ""),
                fmt::format("127.0.0.1:{}", 20001 + i));
    }
  }
}

TEST(InstalledConsensus, ReadsThePeriodAndRelaysOfNodeInfo) {
  const auto info = nlohmann::json::parse(
      R"({"nickname": "node1", "directory": {"nodes": 4, "valid_after": 1200, "valid_until": 1248}})");
  const auto consensus = installed_consensus(info);
  ASSERT_TRUE(consensus);
  EXPECT_EQ(consensus->period, 1200 / kTestnetPeriodSeconds);
  EXPECT_EQ(consensus->nodes, 4u);
  EXPECT_FALSE(installed_consensus(nlohmann::json::parse(R"({"nickname": "node1"})")));
  EXPECT_FALSE(installed_consensus(nlohmann::json::parse(R"({"directory": {"nodes": 4}})")));
  EXPECT_FALSE(installed_consensus(nlohmann::json::array()));
}

// The exit accepts everything but port 25, so a policy refusal can be seen.
TEST(TestnetExitPolicy, RejectsPort25AndAcceptsTheRest) {
  auto policy = document::AdvertisedExitRules::parse(testnet_exit_policy());
  ASSERT_TRUE(policy) << policy.error().to_string();
  EXPECT_FALSE(policy->allows("127.0.0.1", 25));
  EXPECT_TRUE(policy->allows("127.0.0.1", 8000));
}

TEST(OpenCircuitCount, CountsOnlyOpenClientCircuits) {
  const auto list = nlohmann::json::parse(R"({"relayed": 7, "circuits": [
      {"id": 1, "state": "open"}, {"id": 2, "state": "building"},
      {"id": 3, "state": "closed"}, {"id": 4, "state": "open"}, {"id": 5}, 6]})");
  EXPECT_EQ(open_circuit_count(list), 2u);
  EXPECT_EQ(open_circuit_count(nlohmann::json::parse(R"({"relayed": 3, "circuits": []})")), 0u);
  EXPECT_EQ(open_circuit_count(nlohmann::json::parse(R"({"count": 3})")), 0u);
  EXPECT_EQ(open_circuit_count(nlohmann::json::array()), 0u);
}

TEST(TestnetState, RoundTripsThroughJson) {
  auto testnet = plan_testnet({6, "/tmp/tn", 20000});
  ASSERT_TRUE(testnet);
  testnet->nodes[3].pid = 4242;
  add_authorities(*testnet);
  auto back = Testnet::from_json(testnet->to_json(), "/tmp/tn");
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_EQ(back->nodes.size(), 6u);
  ASSERT_EQ(back->authorities.size(), 3u);
  EXPECT_EQ(back->authorities[1].name, "node3");
  EXPECT_EQ(back->authorities[1].key, testnet->authorities[1].key);
  EXPECT_EQ(back->authorities[1].tcp_address, "127.0.0.1:20002");
  EXPECT_FALSE(testnet->to_json().contains("directory"));
  EXPECT_EQ(back->nodes[3].pid, 4242);
  EXPECT_EQ(back->nodes[5].roles, testnet->nodes[5].roles);
  EXPECT_EQ(back->socks_port(), 20006);
  EXPECT_EQ(testnet->to_json()["socks"], "127.0.0.1:20006");
}

// --hosts: node K on test host K (10.77.0.K), the fixed ports, the origin host
// last; the configs listen on the host's address and carry the congestion
// controller when one is chosen.
TEST(PlanTestnet, OnTestHostsEachNodeHasItsOwnAddressAndTheFixedPorts) {
  TestnetOptions options{5, "/tmp/tn", 20000};
  options.hosts = true;
  options.congestion = "bbr";
  auto testnet = plan_testnet(options);
  ASSERT_TRUE(testnet) << testnet.error().to_string();
  ASSERT_TRUE(testnet->hosts);
  EXPECT_EQ(testnet->hosts->names,
            (std::vector<std::string>{"client", "relay1", "relay2", "relay3", "exit", "origin"}));
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(testnet->nodes[i].address, "10.77.0." + std::to_string(i + 1));
    EXPECT_EQ(testnet->nodes[i].host, testnet->hosts->names[i]);
    EXPECT_EQ(testnet->nodes[i].udp_port, kHostLinkPort);
  }
  EXPECT_EQ(testnet->socks_address(), "10.77.0.1:9345");

  add_authorities(*testnet);
  auto client =
      ConfigReader::from_string(node_config_text(*testnet, testnet->nodes[0]), "node1.toml");
  ASSERT_TRUE(client) << client.error().to_string();
  EXPECT_EQ(client->get_host_port("transport.udp_listen", {}), (HostPort{"10.77.0.1", 9340}));
  // The authorities are dialled at their test hosts' addresses.
  EXPECT_EQ(client->get_host_port("directory.authorities[0].address", {}),
            (HostPort{"10.77.0.2", 9340}));
  EXPECT_EQ(client->get_host_port("socks.listen", {}), (HostPort{"10.77.0.1", 9345}));
  EXPECT_EQ(client->get_string("stream.congestion", ""), "bbr");
  auto relay =
      ConfigReader::from_string(node_config_text(*testnet, testnet->nodes[2]), "node3.toml");
  ASSERT_TRUE(relay) << relay.error().to_string();
  EXPECT_EQ(relay->get_host_port("transport.udp_listen", {}), (HostPort{"10.77.0.3", 9340}));
  EXPECT_EQ(relay->get_host_port("relay.advertise_tcp", {}), (HostPort{"10.77.0.3", 9340}));
  EXPECT_TRUE(relay->get_bool("authority.allow_private_addresses", false));
}

TEST(PlanTestnet, WithoutACongestionChoiceTheConfigLeavesNyxdsDefault) {
  auto testnet = plan_testnet({5, "/tmp/tn", 20000});
  ASSERT_TRUE(testnet);
  add_authorities(*testnet);
  auto client =
      ConfigReader::from_string(node_config_text(*testnet, testnet->nodes[0]), "node1.toml");
  ASSERT_TRUE(client);
  EXPECT_FALSE(client->has("stream.congestion"));
}

TEST(TestnetState, RoundTripsTheTestHostsThroughJson) {
  TestnetOptions options{5, "/tmp/tn", 20000};
  options.hosts = true;
  options.links.delay_ms = 40;
  options.links.loss_pct = 1;
  options.links.rate_mbit = 50;
  options.links.seed = 7;
  auto testnet = plan_testnet(options);
  ASSERT_TRUE(testnet);
  testnet->hosts->run = "0a1b2c3d";
  testnet->hosts->switch_pid = 4343;
  auto back = Testnet::from_json(testnet->to_json(), "/tmp/tn");
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_TRUE(back->hosts);
  EXPECT_EQ(back->hosts->run, "0a1b2c3d");
  EXPECT_EQ(back->hosts->switch_pid, 4343);
  EXPECT_EQ(back->hosts->names, testnet->hosts->names);
  EXPECT_EQ(back->hosts->links.delay_ms, 40);
  EXPECT_EQ(back->hosts->links.loss_pct, 1);
  EXPECT_EQ(back->hosts->links.seed, 7u);
  EXPECT_EQ(back->nodes[4].address, "10.77.0.5");
  EXPECT_EQ(back->nodes[4].host, "exit");
  EXPECT_EQ(back->socks_address(), "10.77.0.1:9345");

  // The run id becomes namespace names: nothing but 8 hex digits.
  auto state = testnet->to_json();
  state["hosts"]["run"] = "../../x";
  EXPECT_FALSE(Testnet::from_json(state, "/tmp/tn"));
}

TEST(TestnetState, RefusesNodeNamesThatEscapeTheDirectory) {
  nlohmann::json state = {{"nodes",
                           {{{"name", "../etc"},
                             {"roles", {"relay"}},
                             {"udp_port", 1},
                             {"socks_port", 0},
                             {"pid", 0}}}}};
  EXPECT_FALSE(Testnet::from_json(state, "/tmp/tn"));
  EXPECT_FALSE(Testnet::from_json({{"nodes", {{{"name", "node1"}}}}}, "/tmp/tn"));
  EXPECT_FALSE(Testnet::from_json(nlohmann::json::array(), "/tmp/tn"));
}

TEST(LoadTestnet, SaysHowToStartOneWhenThereIsNone) {
  auto testnet = load_testnet("/nonexistent/testnet");
  ASSERT_FALSE(testnet);
  EXPECT_EQ(testnet.error().category, ErrorCategory::kNotFound);
  EXPECT_NE(testnet.error().message.find("nyxctl testnet up"), std::string::npos);
}

}  // namespace
}  // namespace nyx::cli
