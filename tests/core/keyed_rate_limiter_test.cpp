#include "core/keyed_rate_limiter.hpp"

#include <chrono>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "core/clock.hpp"

namespace nyx {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Rate 10/s, burst 2: a drained key is full again 200 ms later.
struct KeyedRateLimiterTest : ::testing::Test {
  ManualClock clock;
  KeyedRateLimiter<std::string> limiter{clock, 10.0, 2, 3, seconds(10)};
};

TEST_F(KeyedRateLimiterTest, EachKeyHasItsOwnBucket) {
  EXPECT_TRUE(limiter.try_acquire("a", 2));
  EXPECT_FALSE(limiter.try_acquire("a"));
  EXPECT_TRUE(limiter.try_acquire("b", 2));
  EXPECT_FALSE(limiter.try_acquire("b"));
  clock.advance(milliseconds(100));
  EXPECT_TRUE(limiter.try_acquire("a"));
  EXPECT_FALSE(limiter.try_acquire("a"));
  EXPECT_EQ(limiter.size(), 2u);
}

TEST_F(KeyedRateLimiterTest, RequestsBeyondTheBurstAreRefusedWithoutAnEntry) {
  EXPECT_FALSE(limiter.try_acquire("a", 3));
  EXPECT_EQ(limiter.size(), 0u);
  EXPECT_TRUE(limiter.try_acquire("a", 0));
}

TEST_F(KeyedRateLimiterTest, IdleKeysExpire) {
  ASSERT_TRUE(limiter.try_acquire("a"));
  ASSERT_TRUE(limiter.try_acquire("b"));
  clock.advance(seconds(5));
  ASSERT_TRUE(limiter.try_acquire("b"));
  clock.advance(seconds(5));  // a idle 10 s, b 5 s
  ASSERT_TRUE(limiter.try_acquire("c"));
  EXPECT_EQ(limiter.size(), 2u);
  clock.advance(seconds(10));
  ASSERT_TRUE(limiter.try_acquire("d"));
  EXPECT_EQ(limiter.size(), 1u);
}

TEST_F(KeyedRateLimiterTest, AFloodOfNewKeysCannotGrowTheTable) {
  for (int i = 0; i < 1000; ++i) {
    limiter.try_acquire("flood" + std::to_string(i), 2);
    EXPECT_LE(limiter.size(), 3u);
  }
  EXPECT_EQ(limiter.size(), 3u);
}

// A full table of keys that still owe tokens refuses newcomers rather than
// forget a debt: otherwise flooding would reset one's own limit.
TEST_F(KeyedRateLimiterTest, NewKeysAreRefusedWhileEveryKeyOwesTokens) {
  ASSERT_TRUE(limiter.try_acquire("a", 2));
  ASSERT_TRUE(limiter.try_acquire("b", 2));
  ASSERT_TRUE(limiter.try_acquire("c", 2));
  EXPECT_FALSE(limiter.try_acquire("new"));
  EXPECT_FALSE(limiter.try_acquire("a"));  // a's debt survived the attempt
  clock.advance(milliseconds(199));
  EXPECT_FALSE(limiter.try_acquire("new"));
  clock.advance(milliseconds(1));  // every bucket full again: the oldest goes
  EXPECT_TRUE(limiter.try_acquire("new"));
  EXPECT_EQ(limiter.size(), 3u);
}

// An attacker who floods new keys between its own requests gets no more
// than its own bucket allows: its entry is never forgotten while it owes.
TEST_F(KeyedRateLimiterTest, FloodingDoesNotResetAKeysLimit) {
  std::uint64_t admitted = 0;
  for (int round = 0; round < 50; ++round) {
    while (limiter.try_acquire("attacker")) {
      ++admitted;
    }
    for (int i = 0; i < 10; ++i) {
      limiter.try_acquire("spoof" + std::to_string(round * 10 + i), 2);
    }
    clock.advance(milliseconds(10));
  }
  EXPECT_LE(admitted, 2u + 5u);  // burst + 490 ms at 10/s
  EXPECT_GE(admitted, 2u);
}

TEST_F(KeyedRateLimiterTest, TheLeastRecentlyUsedFullKeyMakesRoom) {
  ASSERT_TRUE(limiter.try_acquire("a"));
  ASSERT_TRUE(limiter.try_acquire("b"));
  ASSERT_TRUE(limiter.try_acquire("c"));
  clock.advance(milliseconds(100));          // all full again, none expired
  ASSERT_TRUE(limiter.try_acquire("a", 2));  // a: recent, and owes
  ASSERT_TRUE(limiter.try_acquire("d"));     // evicts b, the oldest
  EXPECT_EQ(limiter.size(), 3u);
  EXPECT_FALSE(limiter.try_acquire("a"));  // a kept its state
  // b comes back as a fresh key, which needs c (full, oldest) to go.
  EXPECT_TRUE(limiter.try_acquire("b", 2));
  EXPECT_EQ(limiter.size(), 3u);
}

TEST_F(KeyedRateLimiterTest, AKeyOwingTokensOutlivesItsIdleExpiry) {
  KeyedRateLimiter<int> slow(clock, 0.01, 2, 3, seconds(1));  // refills in 200 s
  ASSERT_TRUE(slow.try_acquire(7, 2));
  clock.advance(seconds(100));
  ASSERT_TRUE(slow.try_acquire(8));
  EXPECT_EQ(slow.size(), 2u);
  EXPECT_FALSE(slow.try_acquire(7, 2));  // 1 token earned of 2
  clock.advance(seconds(200));
  ASSERT_TRUE(slow.try_acquire(9));
  EXPECT_EQ(slow.size(), 1u);
}

TEST(KeyedRateLimiter, ZeroKeysRefusesEveryone) {
  ManualClock clock;
  KeyedRateLimiter<int> none(clock, 10.0, 2, 0, seconds(1));
  EXPECT_FALSE(none.try_acquire(1));
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace nyx
