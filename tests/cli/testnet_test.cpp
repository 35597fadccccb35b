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
