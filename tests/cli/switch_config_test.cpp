// The link emulator's JSON config (cli/linkemu/switch_config) and the test
// hosts' names and addresses (cli/testnet_hosts, proposal 0003 §2.3).
#include "cli/linkemu/switch_config.hpp"

#include <gtest/gtest.h>

#include "cli/testnet_hosts.hpp"

namespace nyx::linkemu {
namespace {

TEST(SwitchConfig, RoundTripsThroughJson) {
  SwitchConfig config;
  config.seed = 99;
  config.stats_path = "/tmp/x/emulator-stats.json";
  config.default_link = LinkParams{.delay = 40 * kMilli, .jitter = 5 * kMilli, .loss = 0.01};
  config.hosts.push_back({"client", 1, "p1", {}});
  config.hosts.push_back({"origin", 6, "p6", {}});
  config.hosts[0].params.up = {.rate_bps = 50'000'000, .queue_time = 20 * kMilli};
  SwitchLink slow;
  slow.from = 6;
  slow.to = 1;
  slow.params = LinkParams{.delay = 100 * kMilli, .reorder = 0.005, .reorder_gap = 2 * kMilli};
  config.links.push_back(slow);

  auto parsed = parse_switch_config(to_json(config));
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->seed, 99u);
  EXPECT_EQ(parsed->stats_path, config.stats_path);
  ASSERT_EQ(parsed->hosts.size(), 2u);
  EXPECT_EQ(parsed->hosts[1].name, "origin");
  EXPECT_EQ(parsed->hosts[1].index, 6);
  EXPECT_EQ(parsed->hosts[1].port, "p6");
  EXPECT_EQ(parsed->hosts[0].params.up.rate_bps, 50'000'000u);
  EXPECT_EQ(parsed->hosts[0].params.up.queue_time, 20 * kMilli);
  EXPECT_EQ(parsed->link(1, 6).delay, 40 * kMilli);
  EXPECT_EQ(parsed->link(1, 6).jitter, 5 * kMilli);
  EXPECT_DOUBLE_EQ(parsed->link(1, 6).loss, 0.01);
  EXPECT_EQ(parsed->link(6, 1).delay, 100 * kMilli);
  EXPECT_DOUBLE_EQ(parsed->link(6, 1).reorder, 0.005);
  EXPECT_EQ(parsed->link(6, 1).reorder_gap, 2 * kMilli);
}

TEST(SwitchConfig, RefusesBadInput) {
  EXPECT_FALSE(parse_switch_config("not json"));
  EXPECT_FALSE(parse_switch_config(R"({"hosts": [{"name": "a", "index": 1}]})"));
  EXPECT_FALSE(
      parse_switch_config(R"({"hosts": [{"name": "a", "index": 1}, {"name": "b", "index": 1}]})"));
  EXPECT_FALSE(parse_switch_config(
      R"({"hosts": [{"name": "a", "index": 1}, {"name": "b", "index": 2}],
          "default_link": {"loss": 1.5}})"));
  EXPECT_FALSE(parse_switch_config(
      R"({"hosts": [{"name": "a", "index": 1}, {"name": "b", "index": 2}],
          "links": [{"from": 1, "to": 3}]})"));
  auto minimal =
      parse_switch_config(R"({"hosts": [{"name": "a", "index": 1}, {"name": "b", "index": 2}]})");
  ASSERT_TRUE(minimal) << minimal.error().to_string();
  EXPECT_EQ(minimal->hosts[1].port, "p2");
  EXPECT_EQ(minimal->link(1, 2).delay, 0);
}

TEST(TestHostNames, FollowTheProposal) {
  EXPECT_EQ(cli::hub_namespace("1a2b3c4d"), "nyx-1a2b3c4d-hub");
  EXPECT_EQ(cli::host_namespace("1a2b3c4d", "relay2"), "nyx-1a2b3c4d-relay2");
  EXPECT_EQ(cli::host_address(6), "10.77.0.6");
  EXPECT_EQ(cli::host_mac(6), "02:4e:59:00:00:06");
  EXPECT_EQ(cli::host_mac(12), "02:4e:59:00:00:0c");
  const auto run = cli::new_run_id();
  EXPECT_EQ(run.size(), 8u);
  EXPECT_EQ(run.find_first_not_of("0123456789abcdef"), std::string::npos);
  const auto hosts = cli::standard_test_hosts(5);
  ASSERT_EQ(hosts.size(), 6u);
  EXPECT_EQ(hosts[0].name, "client");
  EXPECT_EQ(hosts[0].index, 1);
  EXPECT_EQ(hosts[1].name, "relay1");
  EXPECT_EQ(hosts[3].name, "relay3");
  EXPECT_EQ(hosts[4].name, "exit");
  EXPECT_EQ(hosts[4].index, 5);
  EXPECT_EQ(hosts[5].name, "origin");
  EXPECT_EQ(hosts[5].index, 6);
}

}  // namespace
}  // namespace nyx::linkemu
