#include "stream/flow_window.hpp"

#include <gtest/gtest.h>

namespace nyx::stream {
namespace {

using namespace std::chrono_literals;

constexpr Nanos kRtt = 100ms;

TEST(ReceiveWindow, MovesOnceHalfIsConsumed) {
  ReceiveWindow w(1000, 4000, 0s);
  EXPECT_EQ(w.limit(), 1000u);
  EXPECT_FALSE(w.on_consumed(400, 1s, kRtt));  // 600 left of 1000
  EXPECT_TRUE(w.on_consumed(600, 1s, kRtt));
  EXPECT_EQ(w.limit(), 1600u);
  EXPECT_EQ(w.window(), 1000u);  // a second since the last update: no growth
}

TEST(ReceiveWindow, DoublesWhenUsedUpWithinTwoRtts) {
  ReceiveWindow w(1000, 4000, 0s);
  ASSERT_TRUE(w.on_consumed(600, 1s, kRtt));
  EXPECT_TRUE(w.on_consumed(1200, 1s + 199ms, kRtt));
  EXPECT_EQ(w.window(), 2000u);
  EXPECT_EQ(w.limit(), 3200u);
  EXPECT_TRUE(w.on_consumed(2500, 1s + 250ms, kRtt));
  EXPECT_EQ(w.window(), 4000u);
  EXPECT_EQ(w.limit(), 6500u);
  EXPECT_TRUE(w.on_consumed(5000, 1s + 300ms, kRtt));
  EXPECT_EQ(w.window(), 4000u);  // the maximum
  EXPECT_EQ(w.limit(), 9000u);
}

TEST(ReceiveWindow, TwoRttsIsNotWithin) {
  ReceiveWindow w(1000, 4000, 0s);
  EXPECT_TRUE(w.on_consumed(600, 200ms, kRtt));
  EXPECT_EQ(w.window(), 1000u);
}

TEST(SendCredit, TracksUseAndRaises) {
  SendCredit c(100);
  c.use(60);
  EXPECT_EQ(c.available(), 40u);
  EXPECT_FALSE(c.raise(80));  // limits never shrink
  EXPECT_EQ(c.limit(), 100u);
  EXPECT_TRUE(c.raise(150));
  EXPECT_EQ(c.available(), 90u);
  c.give_back(10);
  EXPECT_EQ(c.used(), 50u);
  EXPECT_EQ(c.available(), 100u);
}

}  // namespace
}  // namespace nyx::stream
