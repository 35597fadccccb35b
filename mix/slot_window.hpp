#pragma once
// SlotWindow: a hop's forward replay window over the (epoch, slot) pairs it
// deciphers from its header (docs/protocol.md, "The forward window"): the
// highest epoch marked and one W-bit bitmap for it and one for the epoch
// before. A pair is new unless marked, or from an epoch older than that.
// Since the client spends all W slots of an epoch before the next, cells
// reordered by fewer than W are always accepted, and every pair at most once.
//
// check() runs before the keystream and mark() only for a header that
// deciphered valid, so a forged header can neither move nor fill the window.
// 520 bytes per circuit; one owner; not thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>

namespace nyx::mix {

inline constexpr std::uint32_t kSlotsPerEpoch = 2048;  // W

enum class SlotVerdict : std::uint8_t { kNew, kReplayed, kTooOld };

class SlotWindow {
 public:
  SlotVerdict check(std::uint64_t epoch, std::uint32_t slot) const noexcept;
  // Precondition: check(epoch, slot) == kNew and slot < kSlotsPerEpoch.
  void mark(std::uint64_t epoch, std::uint32_t slot) noexcept;

 private:
  using Bitmap = std::array<std::uint64_t, kSlotsPerEpoch / 64>;
  static bool has(const Bitmap& bits, std::uint32_t slot) noexcept {
    return (bits[slot / 64] >> (slot % 64)) & 1u;
  }

  Bitmap current_{};   // epoch top_
  Bitmap previous_{};  // epoch top_ - 1
  std::uint64_t top_ = 0;
  bool any_ = false;
};

}  // namespace nyx::mix
