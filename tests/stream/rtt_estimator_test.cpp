#include "stream/rtt_estimator.hpp"

#include <gtest/gtest.h>

namespace nyx::stream {
namespace {

using namespace std::chrono_literals;

TEST(RttEstimator, StartsFromTheInitialRtt) {
  const RttEstimator rtt;
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_EQ(rtt.smoothed(), 100ms);
  EXPECT_EQ(rtt.variation(), 50ms);
  // 100 + max(4 * 50, 1) + 5 ms.
  EXPECT_EQ(rtt.pto(5ms, 0), 305ms);
  // 9/8 of the smoothed RTT.
  EXPECT_EQ(rtt.loss_delay(), 112500us);
}

TEST(RttEstimator, FirstSampleSetsEverything) {
  RttEstimator rtt;
  rtt.on_sample(80ms, 10ms);
  EXPECT_TRUE(rtt.has_sample());
  EXPECT_EQ(rtt.latest(), 80ms);
  EXPECT_EQ(rtt.smoothed(), 80ms);  // the ACK delay is ignored on the first sample
  EXPECT_EQ(rtt.variation(), 40ms);
  EXPECT_EQ(rtt.min(), 80ms);
}

TEST(RttEstimator, LaterSamplesFollowRfc9002) {
  RttEstimator rtt;
  rtt.on_sample(80ms, 10ms);
  // 120 - 10 = 110 (not below min 80): rttvar = (3*40 + |80-110|)/4,
  // srtt = (7*80 + 110)/8.
  rtt.on_sample(120ms, 10ms);
  EXPECT_EQ(rtt.variation(), 37500us);
  EXPECT_EQ(rtt.smoothed(), 83750us);
  EXPECT_EQ(rtt.min(), 80ms);
  EXPECT_EQ(rtt.loss_delay(), 135ms);  // 9/8 of the latest, which is larger
  // 85 < 80 + 10: subtracting the delay would go below min_rtt, so it is not.
  rtt.on_sample(85ms, 10ms);
  EXPECT_EQ(rtt.variation(), 28437500ns);
  EXPECT_EQ(rtt.smoothed(), 83906250ns);
  rtt.on_sample(60ms, 0ms);
  EXPECT_EQ(rtt.min(), 60ms);
}

TEST(RttEstimator, GranularityBoundsPtoAndLossDelay) {
  RttEstimator rtt;
  rtt.on_sample(100us, 0ms);
  EXPECT_EQ(rtt.pto(0ms, 0), 1100us);  // 4 * 50 us is below 1 ms
  EXPECT_EQ(rtt.loss_delay(), 1ms);
}

TEST(RttEstimator, PtoBacksOffExponentiallyUpToACap) {
  const RttEstimator rtt;
  EXPECT_EQ(rtt.pto(5ms, 2), 4 * 305ms);
  EXPECT_EQ(rtt.pto(5ms, 16), 65536 * 305ms);
  EXPECT_EQ(rtt.pto(5ms, 40), rtt.pto(5ms, 16));
}

}  // namespace
}  // namespace nyx::stream
