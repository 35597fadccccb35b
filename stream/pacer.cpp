#include "stream/pacer.hpp"

#include <algorithm>
#include <cmath>

namespace nyx::stream {

Pacer::Pacer(std::size_t max_datagram_size, Nanos now)
    : max_datagram_size_(static_cast<double>(max_datagram_size)),
      capacity_(static_cast<double>(kBurstPackets * max_datagram_size)),
      tokens_(capacity_),
      updated_(now) {}

std::optional<Nanos> Pacer::delay(Nanos now, std::uint64_t window, Nanos smoothed_rtt) {
  const auto rtt_ns = static_cast<double>(smoothed_rtt.count());
  if (rtt_ns < 1000.0) {
    return std::nullopt;  // a round trip too short to pace over
  }
  const double rate = 1.25 * static_cast<double>(window) / rtt_ns;  // bytes per ns
  tokens_ = std::min(capacity_, tokens_ + rate * static_cast<double>((now - updated_).count()));
  updated_ = now;
  if (tokens_ >= max_datagram_size_) {
    return std::nullopt;
  }
  return now + Nanos{static_cast<std::int64_t>(std::ceil((max_datagram_size_ - tokens_) / rate))};
}

}  // namespace nyx::stream
