#pragma once
// SlotSchedule: the client's choice of (epoch, slot) for one hop of one
// circuit, forward (docs/protocol.md, "The slot schedule"). Epochs start at
// a secret random base below 2^47; within an epoch every one of the W slots
// is used once, in a fresh uniformly random order (one Fisher-Yates step per
// cell), then the epoch advances. Hops have independent bases and orders, so
// the pair one hop deciphers says nothing about the pair another hop saw for
// the same cell beyond which epoch of W cells it belongs to.
//
// 4 KiB (the slot table); one owner; not thread-safe.

#include <cstdint>
#include <vector>

namespace nyx::mix {

struct SlotPick {
  std::uint64_t epoch = 0;
  std::uint32_t slot = 0;
};

class SlotSchedule {
 public:
  SlotSchedule();

  SlotPick next();

 private:
  std::vector<std::uint16_t> unused_;  // a permutation of 0 … W-1; [0, left_) unused
  std::uint32_t left_;
  std::uint64_t epoch_;
};

}  // namespace nyx::mix
