#include "stream/detail/received_packets.hpp"

#include <algorithm>
#include <array>
#include <span>

#include "stream/frame.hpp"

namespace nyx::stream::detail {

void ReceivedPackets::on_packet(std::uint64_t pn, Nanos now, bool eliciting) {
  const bool had_any = !received_.empty() || floor_ > 0;
  received_.add(pn, pn + 1);
  while (received_.size() > kMaxTrackedRanges) {
    floor_ = received_.front().end;
    received_.remove_below(floor_);
  }
  if (!had_any || pn > largest_) {
    // A gap means loss or reordering: tell the sender at once (RFC 9000 13.2.1).
    if (had_any && pn != largest_ + 1) {
      ack_now_ = true;
    }
    largest_ = pn;
    largest_time_ = now;
  } else {
    ack_now_ = true;
  }
  if (eliciting) {
    if (!pending_) {
      deadline_ = now + max_ack_delay_;
    }
    pending_ = true;
    if (++eliciting_since_ack_ >= threshold_) {
      ack_now_ = true;
    }
  }
}

std::optional<Nanos> ReceivedPackets::ack_deadline(Nanos now) const noexcept {
  if (!pending_) {
    return std::nullopt;
  }
  return ack_now_ ? now : deadline_;
}

void ReceivedPackets::on_timeout(Nanos now) noexcept {
  if (pending_ && now >= deadline_) {
    ack_now_ = true;
  }
}

void ReceivedPackets::write_ack(ByteWriter& w, Nanos now) {
  if (!pending_) {
    return;
  }
  std::array<PacketRange, kMaxAckRanges> ranges;
  std::size_t n = 0;
  const auto& rs = received_.ranges();
  for (auto it = rs.rbegin(); it != rs.rend() && n < kMaxAckRanges; ++it) {
    ranges[n++] = PacketRange{it->start, it->end - 1};
  }
  const auto delay = std::chrono::duration_cast<std::chrono::microseconds>(now - largest_time_);
  if (encode_ack(w, static_cast<std::uint64_t>(std::max<std::int64_t>(delay.count(), 0)),
                 std::span<const PacketRange>(ranges.data(), n)) > 0) {
    pending_ = false;
    ack_now_ = false;
    eliciting_since_ack_ = 0;
  }
}

}  // namespace nyx::stream::detail
