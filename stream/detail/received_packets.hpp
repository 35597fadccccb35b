#pragma once
// The receive side of packet numbers: which packets arrived (to drop
// duplicates and to build ACK frames) and when an ACK is owed: at once after
// a gap, a reordered packet or ack_eliciting_threshold eliciting packets,
// otherwise within max_ack_delay (RFC 9000 13.2).
//
// Ownership and threading: one per Session, used on its thread only.

#include <cstdint>
#include <optional>

#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "stream/detail/range_set.hpp"

namespace nyx::stream::detail {

class ReceivedPackets {
 public:
  ReceivedPackets(Nanos max_ack_delay, std::uint32_t ack_eliciting_threshold) noexcept
      : max_ack_delay_(max_ack_delay), threshold_(ack_eliciting_threshold) {}

  bool is_duplicate(std::uint64_t pn) const noexcept {
    return pn < floor_ || received_.contains(pn);
  }
  // A packet that was processed; eliciting if it held more than ACK,
  // PADDING and CLOSE.
  void on_packet(std::uint64_t pn, Nanos now, bool eliciting);

  bool ack_due(Nanos now) const noexcept { return pending_ && (ack_now_ || now >= deadline_); }
  // When the owed ACK must go (now when it is due at once).
  std::optional<Nanos> ack_deadline(Nanos now) const noexcept;
  void on_timeout(Nanos now) noexcept;
  // Writes an ACK frame for what arrived, if one is pending and fits.
  void write_ack(ByteWriter& w, Nanos now);

 private:
  static constexpr std::size_t kMaxTrackedRanges = 64;
  static constexpr std::size_t kMaxAckRanges = 32;

  Nanos max_ack_delay_;
  std::uint32_t threshold_;
  RangeSet received_;
  std::uint64_t floor_ = 0;  // older packet numbers count as duplicates
  std::uint64_t largest_ = 0;
  Nanos largest_time_{0};
  bool pending_ = false;
  bool ack_now_ = false;  // the pending ACK must not wait for its deadline
  std::uint32_t eliciting_since_ack_ = 0;
  Nanos deadline_{0};
};

}  // namespace nyx::stream::detail
