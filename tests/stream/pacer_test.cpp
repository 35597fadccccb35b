#include "stream/pacer.hpp"

#include <gtest/gtest.h>

namespace nyx::stream {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMds = 1000;
// 1.25 * 8000 bytes per 10 us: exactly one byte per nanosecond.
constexpr std::uint64_t kWindow = 8000;
constexpr Nanos kRtt = 10us;

TEST(Pacer, AllowsABurstOfTenDatagrams) {
  Pacer pacer(kMds, 0ns);
  for (int i = 0; i < 10; ++i) {
    ASSERT_FALSE(pacer.delay(0ns, kWindow, kRtt)) << i;
    pacer.on_sent(kMds);
  }
  EXPECT_EQ(pacer.delay(0ns, kWindow, kRtt), 1000ns);
}

TEST(Pacer, RefillsAtOnePointTwoFiveWindowsPerRtt) {
  Pacer pacer(kMds, 0ns);
  pacer.on_sent(10 * kMds);
  EXPECT_EQ(pacer.delay(500ns, kWindow, kRtt), 1000ns);  // 500 tokens, 500 to go
  EXPECT_FALSE(pacer.delay(1000ns, kWindow, kRtt));
}

TEST(Pacer, BucketHoldsNoMoreThanTheBurst) {
  Pacer pacer(kMds, 0ns);
  EXPECT_FALSE(pacer.delay(1s, kWindow, kRtt));
  pacer.on_sent(10 * kMds);
  EXPECT_EQ(pacer.delay(1s, kWindow, kRtt), 1s + 1000ns);
}

TEST(Pacer, DoesNotPaceSubMicrosecondRtts) {
  Pacer pacer(kMds, 0ns);
  pacer.on_sent(20 * kMds);
  EXPECT_FALSE(pacer.delay(0ns, kWindow, 999ns));
}

// At a controller's rate a drained bucket reopens only with a whole send
// quantum, so a fast path wakes once per quantum, not once per datagram; the
// average rate is the same.
TEST(Pacer, AtARateADrainedBucketReopensWithAWholeQuantum) {
  constexpr std::uint64_t kRate = 1'000'000'000;  // one byte per nanosecond
  constexpr std::uint64_t kQuantum = 4 * kMds;
  Pacer pacer(kMds, 0ns);
  for (int i = 0; i < 4; ++i) {
    ASSERT_FALSE(pacer.delay_at_rate(0ns, kRate, kQuantum)) << i;
    pacer.on_sent(kMds);
  }
  EXPECT_EQ(pacer.delay_at_rate(0ns, kRate, kQuantum), 4000ns);
  // A datagram's worth has refilled, but not the quantum.
  EXPECT_EQ(pacer.delay_at_rate(1000ns, kRate, kQuantum), 4000ns);
  for (int i = 0; i < 4; ++i) {
    ASSERT_FALSE(pacer.delay_at_rate(4000ns, kRate, kQuantum)) << i;
    pacer.on_sent(kMds);
  }
  EXPECT_EQ(pacer.delay_at_rate(4000ns, kRate, kQuantum), 8000ns);
}

}  // namespace
}  // namespace nyx::stream
