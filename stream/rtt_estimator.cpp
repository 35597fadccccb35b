#include "stream/rtt_estimator.hpp"

#include <algorithm>

namespace nyx::stream {

void RttEstimator::on_sample(Nanos latest, Nanos ack_delay) noexcept {
  latest_ = latest;
  if (!has_sample_) {
    has_sample_ = true;
    min_ = smoothed_ = latest;
    variation_ = latest / 2;
    return;
  }
  min_ = std::min(min_, latest);
  // The peer's delay is subtracted only where that cannot go below min_rtt.
  Nanos adjusted = latest;
  if (latest >= min_ + ack_delay) {
    adjusted = latest - ack_delay;
  }
  const Nanos diff = smoothed_ > adjusted ? smoothed_ - adjusted : adjusted - smoothed_;
  variation_ = (3 * variation_ + diff) / 4;
  smoothed_ = (7 * smoothed_ + adjusted) / 8;
}

Nanos RttEstimator::pto(Nanos max_ack_delay, std::uint32_t backoff) const noexcept {
  const Nanos interval = smoothed_ + std::max(4 * variation_, kGranularity) + max_ack_delay;
  return interval * (std::int64_t{1} << std::min<std::uint32_t>(backoff, 16));
}

Nanos RttEstimator::loss_delay() const noexcept {
  return std::max(9 * std::max(latest_, smoothed_) / 8, kGranularity);
}

}  // namespace nyx::stream
