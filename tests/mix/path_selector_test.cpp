#include "mix/path_selector.hpp"

#include <map>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "mix/support/memory_network.hpp"
#include "mix/support/test_nodes.hpp"

namespace nyx::mix {
namespace {

using testing::make_test_node;
using testing::make_test_node_at;

using testing::SeededRandom;

std::vector<document::NodeDescriptor> network() {
  std::vector<document::NodeDescriptor> nodes;
  for (int i = 0; i < 10; ++i) {
    std::string family = (i == 2 || i == 3) ? "twins" : "";
    nodes.push_back(make_test_node(i, i >= 8, family).descriptor);
  }
  // Node 9 exits only to port 443.
  nodes[9].exit_rules = *document::AdvertisedExitRules::parse({"accept *:443"});
  return nodes;
}

TEST(PathSelector, DefaultIsThreeDistinctHopsEndingInAnExit) {
  auto nodes = network();
  SeededRandom random(1);
  PathSelector selector(random);
  for (int round = 0; round < 200; ++round) {
    auto path = selector.select(nodes, {.destination = "example.org:80"});
    ASSERT_TRUE(path.has_value());
    ASSERT_EQ(path->size(), kDefaultHops);
    EXPECT_TRUE(path->back()->is_exit());
    EXPECT_EQ(path->back(), &nodes[8]);  // node 9 refuses port 80
    std::set<const document::NodeDescriptor*> distinct(path->begin(), path->end());
    EXPECT_EQ(distinct.size(), path->size());
    int twins = 0;
    for (const document::NodeDescriptor* hop : *path) {
      twins += hop->family == "twins" ? 1 : 0;
    }
    EXPECT_LE(twins, 1);
  }
}

TEST(PathSelector, DeterministicUnderTheSameSeed) {
  auto nodes = network();
  SeededRandom a(42);
  SeededRandom b(42);
  PathSelector sa(a);
  PathSelector sb(b);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(*sa.select(nodes, {.hops = 5}), *sb.select(nodes, {.hops = 5}));
  }
}

TEST(PathSelector, WeightedByBandwidth) {
  std::vector<document::NodeDescriptor> nodes;
  nodes.push_back(make_test_node(0, false, "", 900).descriptor);
  nodes.push_back(make_test_node(1, false, "", 100).descriptor);
  nodes.push_back(make_test_node(2, true, "", 100).descriptor);
  SeededRandom random(7);
  PathSelector selector(random);
  std::map<const document::NodeDescriptor*, int> entries;
  for (int i = 0; i < 2000; ++i) {
    auto path = selector.select(nodes, {.hops = 2});
    ASSERT_TRUE(path.has_value());
    ++entries[path->front()];
  }
  // Expect about 90 % on the heavy node.
  EXPECT_GT(entries[&nodes[0]], 1700);
  EXPECT_LT(entries[&nodes[0]], 1900);
}

TEST(PathSelector, RefusesImpossibleRequests) {
  auto nodes = network();
  SeededRandom random(3);
  PathSelector selector(random);
  EXPECT_EQ(selector.select(nodes, {.hops = 1}).error().category, ErrorCategory::kInvalidArgument);
  EXPECT_EQ(selector.select(nodes, {.hops = 8}).error().category, ErrorCategory::kInvalidArgument);
  EXPECT_EQ(selector.select(nodes, {.destination = "mail.example:25"}).error().category,
            ErrorCategory::kNotFound);
  // 10 nodes, two in one family: at most 9 distinct families.
  std::vector<document::NodeDescriptor> few(nodes.begin() + 6, nodes.end());
  EXPECT_EQ(selector.select(few, {.hops = 5}).error().category, ErrorCategory::kNotFound);
  EXPECT_TRUE(selector.select(few, {.hops = 4}).has_value());
}

// 24 relays in 6 IPv4 /16s (4 each, some exits), 6 relays in 3 IPv6 /32s,
// and two families spanning subnets.
std::vector<document::NodeDescriptor> crowded_network() {
  std::vector<document::NodeDescriptor> nodes;
  for (int i = 0; i < 24; ++i) {
    const std::string family = i % 7 == 0 ? "sevens" : (i % 11 == 0 ? "elevens" : "");
    nodes.push_back(
        make_test_node_at(i, fmt::format("198.{}.{}.1", 10 + i % 6, i), i % 3 == 0, family)
            .descriptor);
  }
  for (int i = 24; i < 30; ++i) {
    nodes.push_back(
        make_test_node_at(i, fmt::format("2001:db{:x}:{:x}::1", 8 + i % 3, i), i % 2 == 0)
            .descriptor);
  }
  return nodes;
}

// The /16 or /32 of an "ip:port" or "[v6]:port" address, read independently
// of the selector's own rule.
std::string subnet_of(std::string_view address) {
  if (address.front() == '[') {
    const auto groups = address.substr(1, address.find(':', address.find(':', 1) + 1) - 1);
    return "v6 " + std::string(groups);
  }
  return "v4 " + std::string(address.substr(0, address.find('.', address.find('.') + 1)));
}

bool hops_share_something(const document::NodeDescriptor& a, const document::NodeDescriptor& b) {
  for (const std::string* x : {&a.udp_address, &a.tcp_address}) {
    for (const std::string* y : {&b.udp_address, &b.tcp_address}) {
      if (subnet_of(*x) == subnet_of(*y)) {
        return true;
      }
    }
  }
  return a.identity_key == b.identity_key || (!a.family.empty() && a.family == b.family);
}

int paths_with_a_shared_hop(PathSelector& selector, std::span<const document::NodeDescriptor> nodes,
                            const PathRequest& request) {
  int shared = 0;
  for (int round = 0; round < 1000; ++round) {
    auto path = selector.select(nodes, request);
    EXPECT_TRUE(path.has_value()) << path.error().to_string();
    if (!path) {
      return -1;
    }
    EXPECT_EQ(path->size(), request.hops);
    EXPECT_EQ(path->front(), request.entry);
    EXPECT_TRUE(path->back()->is_exit());
    bool any = false;
    for (std::size_t i = 0; i < path->size(); ++i) {
      for (std::size_t j = i + 1; j < path->size(); ++j) {
        any = any || hops_share_something(*(*path)[i], *(*path)[j]);
      }
    }
    shared += any ? 1 : 0;
  }
  return shared;
}

TEST(PathSelector, AThousandPathsShareNoSlash16Slash32OrFamily) {
  const auto nodes = crowded_network();
  SeededRandom random(11);
  PathSelector selector(random);
  for (const std::size_t guard : {std::size_t{1}, std::size_t{7}, std::size_t{25}}) {
    for (const std::size_t hops : {std::size_t{3}, std::size_t{4}}) {
      EXPECT_EQ(paths_with_a_shared_hop(selector, nodes, {.hops = hops, .entry = &nodes[guard]}), 0)
          << "guard " << guard << ", " << hops << " hops";
    }
  }
  // The same draws without the subnet rule do put hops in one /16: the
  // count above would see a broken rule.
  EXPECT_GT(paths_with_a_shared_hop(selector, nodes,
                                    {.entry = &nodes[1], .subnets = SubnetRule::kIgnore}),
            100);
}

TEST(PathSelector, TheGuardIsNeverItsOwnExitNorBesideItsConflicts) {
  std::vector<document::NodeDescriptor> nodes;
  nodes.push_back(make_test_node_at(0, "198.51.0.1", true).descriptor);
  nodes.push_back(make_test_node_at(1, "198.51.0.2", true).descriptor);
  nodes.push_back(make_test_node_at(2, "203.0.113.1").descriptor);
  SeededRandom random(12);
  PathSelector selector(random);
  // Both exits sit in the guard's /16 (one is the guard itself).
  auto refused = selector.select(nodes, {.hops = 2, .entry = &nodes[0]});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().category, ErrorCategory::kNotFound);
  nodes.push_back(make_test_node_at(3, "192.0.2.1", true).descriptor);
  for (int i = 0; i < 50; ++i) {
    auto path = selector.select(nodes, {.hops = 3, .entry = &nodes[2]});
    ASSERT_TRUE(path.has_value());
    EXPECT_EQ(path->front(), &nodes[2]);
    // Exits 0 and 1 share a /16: never both, so the path is one of them and 3.
    EXPECT_NE((*path)[1]->udp_address.substr(0, 6), path->back()->udp_address.substr(0, 6));
  }
}

TEST(PathSelector, StillWeightedByBandwidthWithAGuard) {
  std::vector<document::NodeDescriptor> nodes;
  nodes.push_back(make_test_node_at(0, "203.0.113.1").descriptor);  // the guard
  nodes.push_back(make_test_node_at(1, "198.51.0.1", true, "", 900).descriptor);
  nodes.push_back(make_test_node_at(2, "192.0.2.1", true, "", 100).descriptor);
  SeededRandom random(13);
  PathSelector selector(random);
  std::map<const document::NodeDescriptor*, int> exits;
  for (int i = 0; i < 2000; ++i) {
    auto path = selector.select(nodes, {.hops = 2, .entry = &nodes[0]});
    ASSERT_TRUE(path.has_value());
    ++exits[path->back()];
  }
  EXPECT_GT(exits[&nodes[1]], 1700);
  EXPECT_LT(exits[&nodes[1]], 1900);
}

TEST(CryptoRandomSource, StaysBelowTheBound) {
  CryptoRandomSource random;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_LT(random.uniform(3), 3u);
  }
}

}  // namespace
}  // namespace nyx::mix
