#include "cli/bench_schedule.hpp"

#include <gtest/gtest.h>

namespace nyx::cli {
namespace {

using std::chrono::milliseconds;

TEST(OpenLoopSchedule, DueTimesFollowTheRateNotTheSender) {
  ManualClock clock(milliseconds(100));
  OpenLoopSchedule schedule(milliseconds(100), milliseconds(200), 1000.0);  // one per ms

  auto first = schedule.take(clock);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->due, milliseconds(100));
  EXPECT_EQ(first->wait, Nanos{0});
  auto second = schedule.take(clock);
  EXPECT_EQ(second->due, milliseconds(101));
  EXPECT_EQ(second->wait, milliseconds(1));

  // The sender stalls for 5 ms: the requests it owes stay due at their own
  // times (so their latency includes the stall) and are sent at once.
  clock.advance(milliseconds(5));
  auto late = schedule.take(clock);
  EXPECT_EQ(late->due, milliseconds(102));
  EXPECT_EQ(late->wait, Nanos{0});
  EXPECT_EQ(schedule.taken(), 3U);
}

TEST(OpenLoopSchedule, EndsBeforeTheEnd) {
  ManualClock clock;
  OpenLoopSchedule schedule(Nanos{0}, milliseconds(10), 500.0);  // every 2 ms
  int slots = 0;
  while (auto slot = schedule.take(clock)) {
    EXPECT_LT(slot->due, milliseconds(10));
    ++slots;
  }
  EXPECT_EQ(slots, 5);
  EXPECT_FALSE(schedule.take(clock));
}

TEST(OpenLoopSchedule, LongRunsDoNotDrift) {
  ManualClock clock;
  OpenLoopSchedule schedule(Nanos{0}, std::chrono::hours(1), 3.0);  // 333.33... ms apart
  std::optional<OpenLoopSchedule::Slot> slot;
  for (int i = 0; i <= 3000; ++i) {
    slot = schedule.take(clock);
  }
  EXPECT_EQ(slot->due, std::chrono::seconds(1000));
}

}  // namespace
}  // namespace nyx::cli
