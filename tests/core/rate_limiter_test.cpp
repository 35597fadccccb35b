#include "core/rate_limiter.hpp"

#include <chrono>
#include <cstdint>

#include <gtest/gtest.h>

#include "core/clock.hpp"

namespace nyx {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Admissions of one token each until the first refusal.
std::uint64_t drain(TokenBucket& bucket) {
  std::uint64_t admitted = 0;
  while (bucket.try_acquire()) {
    ++admitted;
  }
  return admitted;
}

TEST(TokenBucket, IsOneCacheLine) {
  EXPECT_EQ(sizeof(TokenBucket), 64u);
  EXPECT_EQ(alignof(TokenBucket), 64u);
}

TEST(TokenBucket, StartsFullAndAdmitsExactlyTheBurst) {
  ManualClock clock;
  TokenBucket bucket(clock, 10.0, 5);
  EXPECT_EQ(bucket.available(), 5u);
  EXPECT_EQ(drain(bucket), 5u);
  EXPECT_FALSE(bucket.try_acquire());
}

TEST(TokenBucket, RefillsFromElapsedTime) {
  ManualClock clock;
  TokenBucket bucket(clock, 10.0, 5);  // one token per 100 ms
  ASSERT_EQ(drain(bucket), 5u);
  clock.advance(milliseconds(99));
  EXPECT_FALSE(bucket.try_acquire());
  clock.advance(milliseconds(1));
  EXPECT_TRUE(bucket.try_acquire());
  EXPECT_FALSE(bucket.try_acquire());
  clock.advance(milliseconds(250));
  EXPECT_EQ(drain(bucket), 2u);  // the half token earned stays in the bucket
  clock.advance(milliseconds(50));
  EXPECT_EQ(drain(bucket), 1u);
}

TEST(TokenBucket, IdleTimeFillsNoMoreThanTheBurst) {
  ManualClock clock;
  TokenBucket bucket(clock, 10.0, 5);
  ASSERT_EQ(drain(bucket), 5u);
  clock.advance(hours(1));
  EXPECT_EQ(drain(bucket), 5u);
  // Idle while full earns nothing either.
  clock.advance(hours(1));
  EXPECT_EQ(drain(bucket), 5u);
}

TEST(TokenBucket, MultiTokenRequestsAreAllOrNothing) {
  ManualClock clock;
  TokenBucket bucket(clock, 10.0, 5);
  EXPECT_TRUE(bucket.try_acquire(3));
  EXPECT_FALSE(bucket.try_acquire(3));  // 2 left: refused, and takes nothing
  EXPECT_TRUE(bucket.try_acquire(2));
  EXPECT_FALSE(bucket.try_acquire(1));
}

TEST(TokenBucket, MoreThanTheBurstIsNeverAdmittedAndZeroAlwaysIs) {
  ManualClock clock;
  TokenBucket bucket(clock, 10.0, 5);
  EXPECT_FALSE(bucket.try_acquire(6));
  clock.advance(hours(10));
  EXPECT_FALSE(bucket.try_acquire(6));
  EXPECT_FALSE(bucket.try_acquire(UINT64_MAX));
  EXPECT_EQ(drain(bucket), 5u);
  EXPECT_TRUE(bucket.try_acquire(0));
}

// Integer refill: after an hour of 10 ms steps at a rate whose per-token
// interval is not a whole number of nanoseconds, the count is still exact.
// (Burst 2, so that the bucket is never full between steps and loses nothing.)
TEST(TokenBucket, NoDriftOverALongRun) {
  ManualClock clock;
  TokenBucket bucket(clock, 3.0, 2);
  std::uint64_t admitted = 0;
  for (int step = 0; step < 360'000; ++step) {
    admitted += drain(bucket);
    clock.advance(milliseconds(10));
  }
  admitted += drain(bucket);
  EXPECT_EQ(admitted, 2u + 3u * 3600u);
}

TEST(TokenBucket, HighRateIsExactToo) {
  ManualClock clock;
  TokenBucket bucket(clock, 1e9, 1);  // one token per ns
  ASSERT_EQ(drain(bucket), 1u);
  clock.advance(std::chrono::nanoseconds(1));
  EXPECT_EQ(drain(bucket), 1u);
  clock.advance(std::chrono::nanoseconds(7));
  EXPECT_EQ(drain(bucket), 1u);  // burst 1 caps it
}

TEST(TokenBucket, LargeBurstAdmitsExactlyTheBurstThroughThePool) {
  ManualClock clock;
  TokenBucket bucket(clock, 1000.0, 10'000);  // batches of 64
  EXPECT_EQ(drain(bucket), 10'000u);
  clock.advance(milliseconds(1));
  EXPECT_EQ(drain(bucket), 1u);
  clock.advance(seconds(1));
  EXPECT_EQ(bucket.available(), 1000u);
  EXPECT_EQ(drain(bucket), 1000u);
}

// Tokens batched into the pool before an idle period are the only excess a
// window can see: at most batch - 1 (burst / 16) beyond the burst.
TEST(TokenBucket, PoolLeftoverBoundsTheExcessAfterIdle) {
  ManualClock clock;
  TokenBucket bucket(clock, 1000.0, 1024);  // batch 64
  ASSERT_TRUE(bucket.try_acquire());        // takes 1, pools 63
  clock.advance(hours(1));
  const std::uint64_t after_idle = drain(bucket);
  EXPECT_LE(after_idle, 1024u + 63u);
  EXPECT_GE(after_idle, 1024u);
}

TEST(TokenBucket, RequestLargerThanThePoolCountsThePool) {
  ManualClock clock;
  TokenBucket bucket(clock, 1000.0, 1024);
  ASSERT_TRUE(bucket.try_acquire(1000));  // bucket 24 left, pool up to 23 of them
  EXPECT_TRUE(bucket.try_acquire(24));    // pool + bucket hold exactly 24
  EXPECT_FALSE(bucket.try_acquire());
}

TEST(TokenBucket, ZeroRateHandsOutOnlyTheBurst) {
  ManualClock clock;
  TokenBucket bucket(clock, 0.0, 3);
  EXPECT_EQ(drain(bucket), 3u);
  clock.advance(hours(1));
  EXPECT_FALSE(bucket.try_acquire());
}

}  // namespace
}  // namespace nyx
