#include "mix/slot_window.hpp"

namespace nyx::mix {

SlotVerdict SlotWindow::check(std::uint64_t epoch, std::uint32_t slot) const noexcept {
  if (!any_ || epoch > top_) {
    return SlotVerdict::kNew;
  }
  if (epoch == top_) {
    return has(current_, slot) ? SlotVerdict::kReplayed : SlotVerdict::kNew;
  }
  if (epoch == top_ - 1) {
    return has(previous_, slot) ? SlotVerdict::kReplayed : SlotVerdict::kNew;
  }
  return SlotVerdict::kTooOld;
}

void SlotWindow::mark(std::uint64_t epoch, std::uint32_t slot) noexcept {
  if (!any_ || epoch > top_ + 1) {
    current_ = {};
    previous_ = {};
    top_ = epoch;
    any_ = true;
  } else if (epoch == top_ + 1) {
    previous_ = current_;
    current_ = {};
    top_ = epoch;
  }
  Bitmap& bits = epoch == top_ ? current_ : previous_;
  bits[slot / 64] |= std::uint64_t{1} << (slot % 64);
}

}  // namespace nyx::mix
