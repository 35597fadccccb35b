#include "stream/new_reno.hpp"

#include <gtest/gtest.h>

namespace nyx::stream {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMds = 1000;

TEST(NewReno, StartsWithTenDatagramsInSlowStart) {
  const NewReno cc(kMds);
  EXPECT_EQ(cc.window(), 10'000u);
  EXPECT_TRUE(cc.in_slow_start());
  EXPECT_EQ(make_congestion_controller(CongestionAlgorithm::kNewReno, kMds)->window(), 10'000u);
}

TEST(NewReno, GrowsOnlyWhileWindowLimited) {
  NewReno cc(kMds);
  cc.on_packet_acked(1s, 0s, 1000, 4000);  // 2 * 4000 < 10000: application-limited
  EXPECT_EQ(cc.window(), 10'000u);
  cc.on_packet_acked(1s, 0s, 1000, 5000);
  EXPECT_EQ(cc.window(), 11'000u);  // slow start: one byte per byte acknowledged
}

TEST(NewReno, HalvesOncePerRecoveryPeriod) {
  NewReno cc(kMds);
  cc.on_packet_lost(10s, 9s, 1000);
  EXPECT_EQ(cc.window(), 5'000u);
  EXPECT_FALSE(cc.in_slow_start());
  cc.on_packet_lost(10s + 1ms, 9s + 500ms, 1000);  // sent before recovery began
  EXPECT_EQ(cc.window(), 5'000u);
  cc.on_packet_acked(11s, 9s + 900ms, 1000, 5000);  // likewise: no growth
  EXPECT_EQ(cc.window(), 5'000u);
}

TEST(NewReno, CongestionAvoidanceAddsOneDatagramPerWindow) {
  NewReno cc(kMds);
  cc.on_packet_lost(10s, 9s, 1000);
  cc.on_packet_acked(11s, 10s + 1ms, 1000, 3000);
  EXPECT_EQ(cc.window(), 5'000u + 1000u * 1000u / 5000u);
}

TEST(NewReno, NeverBelowTwoDatagrams) {
  NewReno cc(kMds);
  Nanos t = 1s;
  for (int i = 0; i < 5; ++i) {
    cc.on_packet_lost(t + 1ms, t, 1000);
    t += 1s;
  }
  EXPECT_EQ(cc.window(), 2'000u);
}

}  // namespace
}  // namespace nyx::stream
