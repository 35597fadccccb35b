// The testnet's plan, configs and state file, without starting processes
// (tests/integration/cli_testnet_test.sh starts real ones).
#include "cli/testnet.hpp"

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
    EXPECT_EQ(testnet->nodes[i].roles, std::vector<std::string>{"relay"});
    EXPECT_EQ(testnet->nodes[i].socks_port, 0);
  }
  EXPECT_TRUE(testnet->nodes[4].is_exit());
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

// The generated config as nyxd's reader sees it: the keys and values nyxd's
// schema (docs/nyxd.example.toml) expects.
TEST(NodeConfigText, GivesEachRoleWhatItNeeds) {
  auto testnet = plan_testnet({5, "/tmp/tn", 20000});
  ASSERT_TRUE(testnet);
  const std::string authority(64, 'a');

  auto client = ConfigReader::from_string(node_config_text(*testnet, testnet->nodes[0], authority),
                                          "node1.toml");
  ASSERT_TRUE(client) << client.error().to_string();
  EXPECT_EQ(client->get_string_list("node.roles", {}), std::vector<std::string>{"client"});
  EXPECT_EQ(client->get_host_port("transport.udp_listen", {}), (HostPort{"127.0.0.1", 20000}));
  EXPECT_EQ(client->get_host_port("socks.listen", {}), (HostPort{"127.0.0.1", 20005}));
  EXPECT_EQ(client->get_string_list("directory.authorities", {}),
            std::vector<std::string>{authority});
  EXPECT_FALSE(client->has("exit.allow_private"));

  auto exit = ConfigReader::from_string(node_config_text(*testnet, testnet->nodes[4], authority),
                                        "node5.toml");
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->get_bool("exit.allow_private", false));
  EXPECT_EQ(exit->get_string_list("exit.policy", {}), testnet_exit_policy());
  EXPECT_FALSE(exit->has("socks.listen"));
  EXPECT_EQ(exit->get_string("directory.file", ""), "../directory.bin");
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
  auto back = Testnet::from_json(testnet->to_json(), "/tmp/tn");
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_EQ(back->nodes.size(), 6u);
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

  const std::string authority(64, 'a');
  auto client = ConfigReader::from_string(node_config_text(*testnet, testnet->nodes[0], authority),
                                          "node1.toml");
  ASSERT_TRUE(client) << client.error().to_string();
  EXPECT_EQ(client->get_host_port("transport.udp_listen", {}), (HostPort{"10.77.0.1", 9340}));
  EXPECT_EQ(client->get_host_port("socks.listen", {}), (HostPort{"10.77.0.1", 9345}));
  EXPECT_EQ(client->get_string("stream.congestion", ""), "bbr");
  auto relay = ConfigReader::from_string(node_config_text(*testnet, testnet->nodes[2], authority),
                                         "node3.toml");
  ASSERT_TRUE(relay) << relay.error().to_string();
  EXPECT_EQ(relay->get_host_port("transport.udp_listen", {}), (HostPort{"10.77.0.3", 9340}));
}

TEST(PlanTestnet, WithoutACongestionChoiceTheConfigLeavesNyxdsDefault) {
  auto testnet = plan_testnet({5, "/tmp/tn", 20000});
  ASSERT_TRUE(testnet);
  auto client = ConfigReader::from_string(
      node_config_text(*testnet, testnet->nodes[0], std::string(64, 'a')), "node1.toml");
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
