#include "transport/replay_window.hpp"

#include <gtest/gtest.h>

namespace nyx::transport {
namespace {

TEST(ReplayWindowTest, AcceptsEachCounterOnce) {
  ReplayWindow w;
  EXPECT_TRUE(w.update(0));
  EXPECT_FALSE(w.update(0));
  EXPECT_TRUE(w.update(5));
  EXPECT_TRUE(w.update(3));  // out of order but inside the window
  EXPECT_FALSE(w.check(3));
  EXPECT_FALSE(w.update(5));
}

TEST(ReplayWindowTest, WindowCoversAtLeast2048CountersBack) {
  ReplayWindow w;
  ASSERT_TRUE(w.update(10000));
  EXPECT_TRUE(w.update(10000 - 2048));
  EXPECT_TRUE(w.update(10000 - (ReplayWindow::kWindow - 1)));
  EXPECT_FALSE(w.check(10000 - ReplayWindow::kWindow));  // too old
  EXPECT_FALSE(w.check(1));
}

TEST(ReplayWindowTest, CheckDoesNotMarkAndLargeJumpsClearOldBits) {
  ReplayWindow w;
  EXPECT_TRUE(w.check(7));
  EXPECT_TRUE(w.check(7));
  ASSERT_TRUE(w.update(7));
  ASSERT_TRUE(w.update(1'000'000));  // slides past every block
  EXPECT_FALSE(w.check(7));
  // Counters in blocks that were reused after the jump start out unseen.
  EXPECT_TRUE(w.update(1'000'000 - 64));
  EXPECT_TRUE(w.update(999'999));
  EXPECT_FALSE(w.update(999'999));
}

TEST(ReplayWindowTest, EveryCounterOfALongRunInAnyOrderWithinTheWindow) {
  ReplayWindow w;
  // Deliver 0..99999 in blocks of 1000, each block reversed.
  for (std::uint64_t base = 0; base < 100000; base += 1000) {
    for (std::uint64_t i = 1000; i-- > 0;) {
      ASSERT_TRUE(w.update(base + i)) << base + i;
    }
  }
  for (std::uint64_t c = 100000 - 1000; c < 100000; ++c) {
    EXPECT_FALSE(w.check(c));
  }
}

}  // namespace
}  // namespace nyx::transport
