#pragma once
// The path's random-loss floor, as BBR-N reads it (docs/protocol.md,
// "Congestion control"; proposal 0003 §3.5): the loss rate of the last N
// rounds that carried only random loss, i.e. rounds whose packets were not
// sent while probing and whose RTT showed no queue (with a drop-tail queue,
// congestive loss comes with the queue full; random loss comes at any RTT —
// TCP Veno's observation). Summed over the rounds rather than the minimum of
// per-round rates: a round of a few hundred packets has a binomial spread
// of about a percent, so the minimum of ten sits well below the true rate
// and every ordinary round would then look like excess loss.
//
// Value type; not thread-safe.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace nyx::stream::detail {

template <std::size_t kRounds>
class LossFloor {
 public:
  explicit LossFloor(double cap) noexcept : cap_(cap) {}

  // One clean round: `lost` of `total` bytes (delivered + lost) were lost.
  void add_round(std::uint64_t lost, std::uint64_t total) noexcept {
    if (total == 0) {
      return;
    }
    lost_sum_ += lost - rounds_[next_].lost;
    total_sum_ += total - rounds_[next_].total;
    rounds_[next_] = Round{lost, total};
    next_ = (next_ + 1) % kRounds;
    count_ = std::min(count_ + 1, kRounds);
  }

  // The floor as a fraction (0 before any clean round), at most the cap.
  double rate() const noexcept {
    if (total_sum_ == 0) {
      return 0;
    }
    return std::min(cap_, static_cast<double>(lost_sum_) / static_cast<double>(total_sum_));
  }
  // Bytes the floor was measured over: how much to trust it.
  std::uint64_t sample_bytes() const noexcept { return total_sum_; }
  std::size_t rounds() const noexcept { return count_; }

 private:
  struct Round {
    std::uint64_t lost = 0;
    std::uint64_t total = 0;
  };
  double cap_;
  std::array<Round, kRounds> rounds_{};
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  std::uint64_t lost_sum_ = 0;
  std::uint64_t total_sum_ = 0;
};

}  // namespace nyx::stream::detail
