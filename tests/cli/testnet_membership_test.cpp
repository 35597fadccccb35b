// Which node `nyxctl testnet add-relay` adds and which `testnet remove` may
// stop, without starting processes (tests/integration/
// testnet_membership_test.sh changes a running testnet).
#include "cli/testnet_membership.hpp"

#include <gtest/gtest.h>

#include "cli/testnet.hpp"
#include "core/config.hpp"

namespace nyx::cli {
namespace {

Testnet planned(std::size_t nodes) {
  auto testnet = plan_testnet({nodes, "/tmp/tn", 20000});
  EXPECT_TRUE(testnet) << testnet.error().to_string();
  return testnet ? std::move(*testnet) : Testnet{};
}

// What add-relay records after planning: the node joins the list.
void add(Testnet& testnet, bool exit) {
  auto node = plan_added_relay(testnet, exit);
  ASSERT_TRUE(node) << node.error().to_string();
  testnet.nodes.push_back(std::move(*node));
}

std::string refusal(const Testnet& testnet, const std::string& name) {
  auto index = removable_node(testnet, name);
  EXPECT_FALSE(index) << name << " removable";
  return index ? std::string() : index.error().message;
}

// 5 nodes: UDP 20000..20004, the client's SOCKS5 20005, so the first node
// added listens on 20006 and the next on 20007.
TEST(PlanAddedRelay, TakesTheNextNameAndThePortAboveTheSocksPort) {
  auto testnet = planned(5);
  auto node = plan_added_relay(testnet, /*exit=*/false);
  ASSERT_TRUE(node) << node.error().to_string();
  EXPECT_EQ(node->name, "node6");
  EXPECT_EQ(node->roles, std::vector<std::string>{"relay"});
  EXPECT_EQ(node->address, "127.0.0.1");
  EXPECT_EQ(node->udp_port, 20006);
  EXPECT_EQ(node->socks_port, 0);
  EXPECT_EQ(node->pid, 0);
  EXPECT_FALSE(node->is_authority());

  testnet.nodes.push_back(std::move(*node));
  auto exit = plan_added_relay(testnet, /*exit=*/true);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->name, "node7");
  EXPECT_EQ(exit->roles, (std::vector<std::string>{"relay", "exit"}));
  EXPECT_EQ(exit->udp_port, 20007);
}

// A removed node keeps its name and port: neither is given out again.
TEST(PlanAddedRelay, NeverReusesARemovedNodesNameOrPort) {
  auto testnet = planned(5);
  add(testnet, false);
  testnet.nodes.back().removed = true;
  auto node = plan_added_relay(testnet, false);
  ASSERT_TRUE(node);
  EXPECT_EQ(node->name, "node7");
  EXPECT_EQ(node->udp_port, 20007);
}

TEST(PlanAddedRelay, ItsConfigListsEveryAuthorityAsTheOtherRelaysHave) {
  auto testnet = planned(5);
  for (const char* name : {"node2", "node3", "node4"}) {
    testnet.authorities.push_back({.name = name,
                                   .key = std::string(64, name[4]),
                                   .link = std::string(64, 'f'),
                                   .address = "127.0.0.1:1",
                                   .tcp_address = "127.0.0.1:1"});
  }
  auto node = plan_added_relay(testnet, false);
  ASSERT_TRUE(node);
  auto config = ConfigReader::from_string(node_config_text(testnet, *node), "node6.toml");
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->get_string_list("node.roles", {}), std::vector<std::string>{"relay"});
  EXPECT_EQ(config->get_host_port("transport.udp_listen", {}), (HostPort{"127.0.0.1", 20006}));
  EXPECT_EQ(config->get_host_port("relay.advertise_udp", {}), (HostPort{"127.0.0.1", 20006}));
  EXPECT_EQ(config->table_count("directory.authorities"), 3u);
  EXPECT_EQ(config->get_string("directory.period", ""), kTestnetPeriod);
  EXPECT_EQ(config->get_string("directory.clock_skew", ""), kTestnetClockSkew);
  EXPECT_FALSE(config->has("socks.listen"));
}

// The authorities admit as many relays at 127.0.0.1 as a testnet may grow to.
TEST(PlanAddedRelay, TheAuthoritiesAdmitEveryRelayATestnetMayHave) {
  auto testnet = planned(5);
  auto config = ConfigReader::from_string(node_config_text(testnet, testnet.nodes[1]), "node2");
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->get_int<std::size_t>("authority.max_relays_per_address", 0), kTestnetMaxNodes);
}

TEST(PlanAddedRelay, RefusesTestHostsAFullTestnetAndTheLastPort) {
  TestnetOptions options{5, "/tmp/tn", 20000};
  options.hosts = true;
  auto hosts = plan_testnet(options);
  ASSERT_TRUE(hosts);
  auto refused = plan_added_relay(*hosts, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category, ErrorCategory::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("--hosts"), std::string::npos);

  auto full = planned(kTestnetMaxNodes);
  EXPECT_FALSE(plan_added_relay(full, false));
  // Removed nodes do not count towards the limit.
  full.nodes[5].removed = true;
  EXPECT_TRUE(plan_added_relay(full, false));

  auto top = plan_testnet({5, "/tmp/tn", 65530});
  ASSERT_TRUE(top);  // SOCKS5 on 65535
  EXPECT_FALSE(plan_added_relay(*top, false));
}

TEST(RemovableNode, AnAddedRelayMayGoAndIsFoundByName) {
  auto testnet = planned(5);
  add(testnet, false);
  auto index = removable_node(testnet, "node6");
  ASSERT_TRUE(index) << index.error().to_string();
  EXPECT_EQ(*index, 5u);
}

TEST(RemovableNode, RefusesTheClientTheAuthoritiesAndUnknownNodes) {
  auto testnet = planned(6);
  EXPECT_NE(refusal(testnet, "node1").find("client"), std::string::npos);
  for (const char* name : {"node2", "node3", "node4"}) {
    const auto why = refusal(testnet, name);
    EXPECT_NE(why.find("authority"), std::string::npos) << why;
    EXPECT_NE(why.find("fixed in every node's config"), std::string::npos) << why;
  }
  EXPECT_NE(refusal(testnet, "node9").find("no node"), std::string::npos);
  EXPECT_NE(refusal(testnet, "relay1").find("no node"), std::string::npos);
  // node5 is a relay that is neither authority nor exit in a 6-node testnet.
  EXPECT_TRUE(removable_node(testnet, "node5"));
}

TEST(RemovableNode, RefusesTheLastExitUntilAnotherIsAdded) {
  auto testnet = planned(6);
  EXPECT_NE(refusal(testnet, "node6").find("last exit"), std::string::npos);
  add(testnet, /*exit=*/true);
  EXPECT_TRUE(removable_node(testnet, "node6"));
  EXPECT_TRUE(removable_node(testnet, "node7"));
}

// A hand-made state where two authorities are gone: node4 (an authority),
// node5 and node6 (exits) are the 3 relays left, so even a second exit may
// not go.
TEST(RemovableNode, RefusesToLeaveFewerThanThreeRelays) {
  auto testnet = planned(5);
  add(testnet, /*exit=*/true);  // node6
  ASSERT_EQ(testnet.relay_count(), 5u);
  EXPECT_TRUE(removable_node(testnet, "node6"));
  testnet.nodes[1].removed = true;
  testnet.nodes[2].removed = true;
  ASSERT_EQ(testnet.relay_count(), 3u);
  EXPECT_NE(refusal(testnet, "node6").find("fewer than 3 relays"), std::string::npos);
}

TEST(RemovableNode, RefusesANodeRemovedAlready) {
  auto testnet = planned(5);
  add(testnet, false);
  testnet.nodes[5].removed = true;
  EXPECT_NE(refusal(testnet, "node6").find("removed already"), std::string::npos);
}

TEST(RemovableNode, RefusesATestHostsTestnet) {
  TestnetOptions options{6, "/tmp/tn", 20000};
  options.hosts = true;
  auto hosts = plan_testnet(options);
  ASSERT_TRUE(hosts);
  EXPECT_NE(refusal(*hosts, "node5").find("--hosts"), std::string::npos);
}

TEST(TestnetState, RoundTripsARemovedNode) {
  auto testnet = planned(5);
  add(testnet, false);
  testnet.nodes[5].removed = true;
  const auto state = testnet.to_json();
  EXPECT_FALSE(state["nodes"][4].contains("removed"));
  EXPECT_EQ(state["nodes"][5]["removed"], true);
  auto back = Testnet::from_json(state, "/tmp/tn");
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_FALSE(back->nodes[4].removed);
  EXPECT_TRUE(back->nodes[5].removed);
  EXPECT_EQ(back->nodes[5].udp_port, 20006);
  EXPECT_EQ(back->relay_count(), 4u);
}

}  // namespace
}  // namespace nyx::cli
