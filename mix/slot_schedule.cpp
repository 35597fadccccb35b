#include "mix/slot_schedule.hpp"

#include <numeric>
#include <utility>

#include "core/crypto/random.hpp"
#include "core/crypto/random_pool.hpp"
#include "mix/slot_window.hpp"

namespace nyx::mix {

inline constexpr std::uint64_t kEpochBaseBound = std::uint64_t{1} << 47;

SlotSchedule::SlotSchedule()
    : unused_(kSlotsPerEpoch),
      left_(kSlotsPerEpoch),
      epoch_(crypto::random_u64() % kEpochBaseBound) {  // 2^64 is a multiple of 2^47: uniform
  std::iota(unused_.begin(), unused_.end(), std::uint16_t{0});
}

SlotPick SlotSchedule::next() {
  if (left_ == 0) {
    left_ = kSlotsPerEpoch;  // the table is still a permutation: every slot unused again
    ++epoch_;
  }
  const std::uint32_t pick = crypto::pooled_random_uniform(left_);
  --left_;
  std::swap(unused_[pick], unused_[left_]);
  return SlotPick{epoch_, unused_[left_]};
}

}  // namespace nyx::mix
