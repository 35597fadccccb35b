#include "stream/pacer.hpp"

#include <algorithm>
#include <cmath>

namespace nyx::stream {

Pacer::Pacer(std::size_t max_datagram_size, Nanos now)
    : max_datagram_size_(static_cast<double>(max_datagram_size)),
      default_capacity_(static_cast<double>(kBurstPackets * max_datagram_size)),
      capacity_(default_capacity_),
      tokens_(capacity_),
      updated_(now) {}

std::optional<Nanos> Pacer::delay(Nanos now, std::uint64_t window, Nanos smoothed_rtt) {
  const auto rtt_ns = static_cast<double>(smoothed_rtt.count());
  if (rtt_ns < 1000.0) {
    drained_ = false;
    return std::nullopt;  // a round trip too short to pace over
  }
  capacity_ = default_capacity_;
  // One datagram at a time: RFC 9002's pacer has no quantum to batch by.
  return refill(now, 1.25 * static_cast<double>(window) / rtt_ns, max_datagram_size_);
}

std::optional<Nanos> Pacer::delay_at_rate(Nanos now, std::uint64_t bytes_per_second,
                                          std::uint64_t burst) {
  capacity_ =
      burst == 0 ? default_capacity_ : std::max(max_datagram_size_, static_cast<double>(burst));
  return refill(now, static_cast<double>(bytes_per_second) / 1e9, capacity_);
}

std::optional<Nanos> Pacer::refill(Nanos now, double rate, double release) {
  tokens_ = std::min(capacity_, tokens_ + rate * static_cast<double>((now - updated_).count()));
  updated_ = now;
  if (drained_ ? tokens_ >= release : tokens_ >= max_datagram_size_) {
    drained_ = false;
    return std::nullopt;
  }
  drained_ = true;
  return now + Nanos{static_cast<std::int64_t>(std::ceil((release - tokens_) / rate))};
}

}  // namespace nyx::stream
