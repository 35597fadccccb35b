#include "mix/path_conflict.hpp"

#include <gtest/gtest.h>

#include "mix/support/test_nodes.hpp"

namespace nyx::mix {
namespace {

using testing::make_test_node_at;

document::NodeDescriptor at(int index, std::string_view ip, std::string family = {}) {
  return make_test_node_at(index, ip, false, std::move(family)).descriptor;
}

TEST(PathConflict, OneIpv4Slash16Conflicts) {
  EXPECT_TRUE(paths_conflict(at(1, "198.51.1.1"), at(2, "198.51.200.2")));
  EXPECT_FALSE(paths_conflict(at(1, "198.51.1.1"), at(2, "198.52.1.1")));
  EXPECT_FALSE(paths_conflict(at(1, "198.51.1.1"), at(2, "199.51.1.1")));
}

TEST(PathConflict, OneIpv6Slash32Conflicts) {
  EXPECT_TRUE(paths_conflict(at(1, "2001:db8:1::1"), at(2, "2001:db8:ffff::2")));
  EXPECT_FALSE(paths_conflict(at(1, "2001:db8::1"), at(2, "2001:db9::1")));
  // Equal leading bytes of different families are not one network.
  EXPECT_FALSE(paths_conflict(at(1, "32.1.13.184"), at(2, "2001:db8::1")));
}

TEST(PathConflict, EveryAdvertisedAddressCounts) {
  auto a = at(1, "198.51.1.1");
  auto b = at(2, "203.0.113.1");
  EXPECT_FALSE(paths_conflict(a, b));
  b.tcp_address = "198.51.7.7:443";  // only b's TCP address shares a's /16
  EXPECT_TRUE(paths_conflict(a, b));
  EXPECT_TRUE(paths_conflict(b, a));
  a.udp_address.clear();  // a still has its TCP address there
  EXPECT_TRUE(paths_conflict(a, b));
  b.tcp_address = "[2001:db8::7]:443";
  a.tcp_address = "[2001:db8:5::1]:443";
  EXPECT_TRUE(paths_conflict(a, b));
}

TEST(PathConflict, IdentityAndFamily) {
  auto a = at(1, "198.51.1.1", "ops");
  EXPECT_TRUE(paths_conflict(a, a));
  EXPECT_TRUE(paths_conflict(a, at(2, "203.0.113.1", "ops")));
  EXPECT_FALSE(paths_conflict(a, at(2, "203.0.113.1", "other")));
  // No family is not a family everyone shares.
  EXPECT_FALSE(paths_conflict(at(1, "198.51.1.1"), at(2, "203.0.113.1")));
  EXPECT_TRUE(paths_conflict(a, a, SubnetRule::kIgnore));
  EXPECT_TRUE(paths_conflict(a, at(2, "203.0.113.1", "ops"), SubnetRule::kIgnore));
}

TEST(PathConflict, SubnetsCanBeIgnoredAndLoopbackNeverCounts) {
  EXPECT_FALSE(paths_conflict(at(1, "10.77.0.1"), at(2, "10.77.0.2"), SubnetRule::kIgnore));
  EXPECT_TRUE(paths_conflict(at(1, "10.77.0.1"), at(2, "10.77.0.2")));
  EXPECT_FALSE(share_subnet(at(1, "127.0.0.1"), at(2, "127.0.0.1")));
  EXPECT_FALSE(share_subnet(at(1, "::1"), at(2, "::1")));
}

}  // namespace
}  // namespace nyx::mix
