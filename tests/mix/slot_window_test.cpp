// The forward replay window over (epoch, slot) pairs
// (docs/proposals/0001-wide-block-cells.md, section 6.3).

#include "mix/slot_window.hpp"

#include <cstdint>

#include <gtest/gtest.h>

namespace nyx::mix {
namespace {

TEST(SlotWindow, NewThenReplayed) {
  SlotWindow window;
  EXPECT_EQ(window.check(40, 7), SlotVerdict::kNew);
  window.mark(40, 7);
  EXPECT_EQ(window.check(40, 7), SlotVerdict::kReplayed);
  EXPECT_EQ(window.check(40, 8), SlotVerdict::kNew);
  EXPECT_EQ(window.check(41, 7), SlotVerdict::kNew);
}

TEST(SlotWindow, EverySlotOfAnEpochOnce) {
  SlotWindow window;
  for (std::uint32_t slot = 0; slot < kSlotsPerEpoch; ++slot) {
    ASSERT_EQ(window.check(9, slot), SlotVerdict::kNew) << slot;
    window.mark(9, slot);
  }
  for (std::uint32_t slot = 0; slot < kSlotsPerEpoch; ++slot) {
    EXPECT_EQ(window.check(9, slot), SlotVerdict::kReplayed) << slot;
  }
}

TEST(SlotWindow, FirstCellOfAnyEpochIsAccepted) {
  for (const std::uint64_t epoch :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1} << 46, (std::uint64_t{1} << 48) - 1}) {
    SlotWindow window;
    EXPECT_EQ(window.check(epoch, kSlotsPerEpoch - 1), SlotVerdict::kNew) << epoch;
    window.mark(epoch, kSlotsPerEpoch - 1);
    EXPECT_EQ(window.check(epoch, kSlotsPerEpoch - 1), SlotVerdict::kReplayed) << epoch;
  }
  // Once a window has a top, every later epoch is still new.
  SlotWindow window;
  window.mark(100, 3);
  EXPECT_EQ(window.check(101, 3), SlotVerdict::kNew);
  EXPECT_EQ(window.check(5000, 3), SlotVerdict::kNew);
}

TEST(SlotWindow, PreviousEpochStillAccepted) {
  SlotWindow window;
  window.mark(10, 5);
  window.mark(11, 7);  // epoch 10 becomes the previous one, with its marks
  EXPECT_EQ(window.check(10, 5), SlotVerdict::kReplayed);
  EXPECT_EQ(window.check(10, 6), SlotVerdict::kNew);
  window.mark(10, 6);  // a late cell of the previous epoch: marked there, top unchanged
  EXPECT_EQ(window.check(10, 6), SlotVerdict::kReplayed);
  EXPECT_EQ(window.check(11, 6), SlotVerdict::kNew);
  EXPECT_EQ(window.check(11, 7), SlotVerdict::kReplayed);
  EXPECT_EQ(window.check(9, 0), SlotVerdict::kTooOld);
}

TEST(SlotWindow, EpochTwoBehindIsTooOld) {
  SlotWindow window;
  window.mark(20, 1);
  window.mark(21, 1);
  window.mark(22, 1);
  EXPECT_EQ(window.check(20, 1), SlotVerdict::kTooOld);
  EXPECT_EQ(window.check(20, 2), SlotVerdict::kTooOld);  // unseen, still too old
  EXPECT_EQ(window.check(21, 1), SlotVerdict::kReplayed);
  EXPECT_EQ(window.check(21, 2), SlotVerdict::kNew);
}

TEST(SlotWindow, JumpOfMoreThanOneEpochClearsBothBitmaps) {
  SlotWindow window;
  window.mark(30, 4);
  window.mark(31, 5);
  window.mark(33, 6);  // skips epoch 32
  // Epoch 32 is the previous one now and holds nothing: neither epoch 31's
  // nor epoch 30's marks moved into it.
  EXPECT_EQ(window.check(32, 4), SlotVerdict::kNew);
  EXPECT_EQ(window.check(32, 5), SlotVerdict::kNew);
  EXPECT_EQ(window.check(33, 5), SlotVerdict::kNew);
  EXPECT_EQ(window.check(33, 6), SlotVerdict::kReplayed);
  EXPECT_EQ(window.check(31, 5), SlotVerdict::kTooOld);
  EXPECT_EQ(window.check(30, 4), SlotVerdict::kTooOld);
}

TEST(SlotWindow, CheckAloneChangesNothing) {
  SlotWindow window;
  window.mark(50, 0);
  // A forged header is checked, never marked: a far epoch moves nothing.
  EXPECT_EQ(window.check(1'000'000, 0), SlotVerdict::kNew);
  EXPECT_EQ(window.check(50, 0), SlotVerdict::kReplayed);
  EXPECT_EQ(window.check(49, 1), SlotVerdict::kNew);
}

}  // namespace
}  // namespace nyx::mix
