#pragma once
// The round-trip time estimate of RFC 9002 section 5 (latest sample,
// smoothed RTT, its variation, minimum) and the two durations recovery
// derives from it: the probe timeout and the time-threshold loss delay.
//
// Ownership and threading: one per Session, used on its thread only.

#include <chrono>
#include <cstdint>

#include "core/clock.hpp"

namespace nyx::stream {

class RttEstimator {
 public:
  // RFC 9002 suggests 333 ms before the first sample; circuits are slower
  // than a LAN but far below that, and a lower value makes the first PTO
  // sooner.
  static constexpr Nanos kInitialRtt = std::chrono::milliseconds(100);
  static constexpr Nanos kGranularity = std::chrono::milliseconds(1);

  // `initial` stands in for the RTT until the first sample (RFC 9002 6.2.2
  // allows a value known from before: a circuit's setup round trip).
  explicit RttEstimator(Nanos initial = kInitialRtt) noexcept
      : smoothed_(initial), variation_(initial / 2) {}

  // latest: from sending the largest newly acknowledged packet to its ACK;
  // ack_delay: the delay the peer reported, already capped at max_ack_delay.
  void on_sample(Nanos latest, Nanos ack_delay) noexcept;

  bool has_sample() const noexcept { return has_sample_; }
  Nanos latest() const noexcept { return latest_; }
  Nanos smoothed() const noexcept { return smoothed_; }
  Nanos variation() const noexcept { return variation_; }
  Nanos min() const noexcept { return min_; }

  // The probe timeout after `backoff` expiries in a row (RFC 9002 6.2.1).
  Nanos pto(Nanos max_ack_delay, std::uint32_t backoff) const noexcept;
  // How much older than an acknowledged packet an unacknowledged one must
  // be to count as lost (RFC 9002 6.1.2).
  Nanos loss_delay() const noexcept;

 private:
  bool has_sample_ = false;
  Nanos latest_{0};
  Nanos smoothed_;
  Nanos variation_;
  Nanos min_{0};
};

}  // namespace nyx::stream
