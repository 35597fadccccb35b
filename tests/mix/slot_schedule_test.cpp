// The client's slot schedule (docs/proposals/0001-wide-block-cells.md,
// section 6.5): every slot of an epoch once, epochs in step across hops,
// independent orders and bases.

#include "mix/slot_schedule.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "mix/slot_window.hpp"

namespace nyx::mix {
namespace {

constexpr std::uint64_t kEpochBaseLimit = std::uint64_t{1} << 47;

TEST(SlotSchedule, EverySlotOfAnEpochOnceThenTheNextEpoch) {
  SlotSchedule schedule;
  const SlotPick first = schedule.next();
  std::vector<bool> used(kSlotsPerEpoch, false);
  used[first.slot] = true;
  for (std::uint64_t epoch = first.epoch; epoch < first.epoch + 3; ++epoch) {
    for (std::uint32_t k = epoch == first.epoch ? 1 : 0; k < kSlotsPerEpoch; ++k) {
      const SlotPick pick = schedule.next();
      ASSERT_EQ(pick.epoch, epoch);
      ASSERT_LT(pick.slot, kSlotsPerEpoch);
      ASSERT_FALSE(used[pick.slot]) << "slot " << pick.slot << " twice in epoch " << epoch;
      used[pick.slot] = true;
    }
    used.assign(kSlotsPerEpoch, false);
  }
  EXPECT_EQ(schedule.next().epoch, first.epoch + 3);
}

TEST(SlotSchedule, BaseIsRandomBelow2Pow47) {
  std::set<std::uint64_t> bases;
  for (int i = 0; i < 64; ++i) {
    const std::uint64_t base = SlotSchedule().next().epoch;
    EXPECT_LT(base, kEpochBaseLimit);
    bases.insert(base);
  }
  EXPECT_EQ(bases.size(), 64u);  // a repeat among 64 has chance 2^-36
}

TEST(SlotSchedule, TwoSchedulesAreIndependent) {
  SlotSchedule a;
  SlotSchedule b;
  const SlotPick first_a = a.next();
  const SlotPick first_b = b.next();
  std::size_t equal_slots = first_a.slot == first_b.slot ? 1 : 0;
  std::size_t epochs_out_of_step = 0;
  for (std::size_t k = 1; k < 3 * kSlotsPerEpoch; ++k) {
    const SlotPick pick_a = a.next();
    const SlotPick pick_b = b.next();
    if (pick_a.slot == pick_b.slot) {
      ++equal_slots;
    }
    // Both advance their epochs on the same cell.
    if (pick_a.epoch - first_a.epoch != pick_b.epoch - first_b.epoch) {
      ++epochs_out_of_step;
    }
  }
  EXPECT_EQ(epochs_out_of_step, 0u);
  // 6144 cells, equal slots with chance 1/2048: 3 on average.
  EXPECT_LE(equal_slots, 20u);
}

}  // namespace
}  // namespace nyx::mix
