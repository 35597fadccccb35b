#include "mix/path_selector.hpp"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "mix/support/memory_network.hpp"
#include "mix/support/test_nodes.hpp"

namespace nyx::mix {
namespace {

using testing::make_test_node;

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

TEST(CryptoRandomSource, StaysBelowTheBound) {
  CryptoRandomSource random;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_LT(random.uniform(3), 3u);
  }
}

}  // namespace
}  // namespace nyx::mix
