#pragma once
// ReplayWindow: the sliding anti-replay window of RFC 6479 for explicit
// 64-bit message counters. A ring of 64-bit blocks covers the newest counter
// seen and the kWindow counters before it; a counter older than that, or one
// already seen, is refused. Sliding forward clears whole blocks, so an
// accepted counter costs O(1) whatever the jump.
//
// check() is called before decryption and update() only after the message
// authenticated, so a forged counter can neither move nor poison the window.
// One owner; not thread-safe.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace nyx::transport {

class ReplayWindow {
 public:
  static constexpr std::size_t kBlocks = 64;
  static constexpr std::uint64_t kWindow = (kBlocks - 1) * 64;  // 4032 counters

  // True when the counter is neither too old nor already seen.
  bool check(std::uint64_t counter) const noexcept {
    if (!any_ || counter > last_) {
      return true;
    }
    if (last_ - counter >= kWindow) {
      return false;
    }
    return (bitmap_[block(counter)] & bit(counter)) == 0;
  }

  // Marks the counter as seen. Returns false (and changes nothing) when
  // check() would have refused it.
  bool update(std::uint64_t counter) noexcept {
    if (!check(counter)) {
      return false;
    }
    if (!any_) {
      last_ = counter;
      any_ = true;
    } else if (counter > last_) {
      const std::uint64_t current = last_ >> 6;
      const std::uint64_t diff = std::min<std::uint64_t>((counter >> 6) - current, kBlocks);
      for (std::uint64_t i = 1; i <= diff; ++i) {
        bitmap_[(current + i) % kBlocks] = 0;
      }
      last_ = counter;
    }
    bitmap_[block(counter)] |= bit(counter);
    return true;
  }

  std::uint64_t last() const noexcept { return last_; }

 private:
  static std::size_t block(std::uint64_t counter) noexcept { return (counter >> 6) % kBlocks; }
  static std::uint64_t bit(std::uint64_t counter) noexcept {
    return std::uint64_t{1} << (counter & 63);
  }

  std::array<std::uint64_t, kBlocks> bitmap_{};
  std::uint64_t last_ = 0;
  bool any_ = false;
};

}  // namespace nyx::transport
