#include "mix/cover_traffic.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>

#include <gtest/gtest.h>

#include "mix/support/memory_network.hpp"

namespace nyx::mix {
namespace {

using testing::SeededRandom;

class CountingRandom final : public RandomSource {
 public:
  std::uint64_t uniform(std::uint64_t bound) override {
    ++draws;
    return inner.uniform(bound);
  }
  SeededRandom inner{7};
  int draws = 0;
};

constexpr Nanos kStart{std::chrono::seconds(1)};

TEST(CoverTraffic, OffSendsNothingAndDrawsNothing) {
  CoverTraffic cover;
  CountingRandom random;
  EXPECT_EQ(cover.take_due(kStart, random), 0u);
  EXPECT_EQ(cover.take_due(kStart + std::chrono::hours(1), random), 0u);
  EXPECT_EQ(random.draws, 0);
}

TEST(CoverTraffic, SendsAtTheConfiguredMeanRate) {
  CoverTraffic cover;
  cover.set_rate(100);
  SeededRandom random(11);
  std::size_t cells = 0;
  for (Nanos now = kStart; now <= kStart + std::chrono::seconds(100);
       now += std::chrono::milliseconds(10)) {
    cells += cover.take_due(now, random);
  }
  // Poisson with mean 10'000: a standard deviation of 100.
  EXPECT_NEAR(static_cast<double>(cells), 10'000.0, 500.0);
}

TEST(CoverTraffic, TimesDoNotDependOnHowOftenItIsAsked) {
  CoverTraffic often;
  CoverTraffic once;
  often.set_rate(50);
  once.set_rate(50);
  SeededRandom r1(3);
  SeededRandom r2(3);
  std::size_t by_often = often.take_due(kStart, r1);
  std::size_t by_once = once.take_due(kStart, r2);
  for (Nanos now = kStart; now <= kStart + std::chrono::seconds(10);
       now += std::chrono::milliseconds(1)) {
    by_often += often.take_due(now, r1);
  }
  by_once += once.take_due(kStart + std::chrono::seconds(10), r2);
  EXPECT_EQ(by_often, by_once);
  EXPECT_GT(by_once, 0u);
}

TEST(CoverTraffic, ARateOfZeroPausesIt) {
  CoverTraffic cover;
  cover.set_rate(1000);
  SeededRandom random(5);
  (void)cover.take_due(kStart, random);
  EXPECT_GT(cover.take_due(kStart + std::chrono::seconds(1), random), 500u);
  cover.set_rate(0);
  EXPECT_EQ(cover.take_due(kStart + std::chrono::seconds(2), random), 0u);
  EXPECT_EQ(cover.rate(), 0.0);
}

TEST(CoverTraffic, ExponentialDelayHasTheRequestedMean) {
  SeededRandom random(9);
  const Nanos mean = std::chrono::milliseconds(20);
  double sum = 0;
  constexpr int kDraws = 100'000;
  for (int i = 0; i < kDraws; ++i) {
    const Nanos delay = exponential_delay(mean, random);
    ASSERT_GE(delay.count(), 0);
    sum += static_cast<double>(delay.count());
  }
  EXPECT_NEAR(sum / kDraws / static_cast<double>(mean.count()), 1.0, 0.02);
}

}  // namespace
}  // namespace nyx::mix
