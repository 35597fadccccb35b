#include "stream/new_reno.hpp"

#include <algorithm>

namespace nyx::stream {

NewReno::NewReno(std::size_t max_datagram_size)
    : max_datagram_size_(max_datagram_size), window_(kInitialWindowPackets * max_datagram_size) {}

// NewReno reacts to acknowledgements and losses only.
void NewReno::on_packet_sent(Nanos, std::uint64_t, std::uint64_t) {}

void NewReno::on_packet_acked(Nanos, Nanos time_sent, std::uint64_t bytes,
                              std::uint64_t bytes_in_flight) {
  const bool window_limited = 2 * bytes_in_flight >= window_;
  if (!window_limited || time_sent <= recovery_start_) {
    return;
  }
  if (in_slow_start()) {
    window_ += bytes;
  } else {
    window_ += max_datagram_size_ * bytes / window_;
  }
}

void NewReno::on_packet_lost(Nanos now, Nanos time_sent, std::uint64_t) {
  if (time_sent <= recovery_start_) {
    return;  // one reduction per round trip of losses
  }
  recovery_start_ = now;
  ssthresh_ = std::max<std::uint64_t>(window_ / 2, kMinWindowPackets * max_datagram_size_);
  window_ = ssthresh_;
}

}  // namespace nyx::stream
