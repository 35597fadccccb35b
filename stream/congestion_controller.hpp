#pragma once
// The seam for congestion control. A Session tells its controller what it
// sent, what was acknowledged and what was lost, and keeps the bytes in
// flight under the controller's window. NewReno (stream/new_reno.hpp) is
// the default; SessionConfig::congestion picks the algorithm, so another
// (BBR, say) can be dropped in and compared on the same simulated links.
//
// Ownership and threading: one per Session, owned by it, used on its thread
// only.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/clock.hpp"

namespace nyx::stream {

enum class CongestionAlgorithm : std::uint8_t { kNewReno };

class CongestionController {
 public:
  virtual ~CongestionController() = default;

  // An ack-eliciting packet of `bytes` left; bytes_in_flight does not count
  // it yet.
  virtual void on_packet_sent(Nanos now, std::uint64_t bytes, std::uint64_t bytes_in_flight) = 0;
  // A packet sent at time_sent was acknowledged; bytes_in_flight still
  // counts it.
  virtual void on_packet_acked(Nanos now, Nanos time_sent, std::uint64_t bytes,
                               std::uint64_t bytes_in_flight) = 0;
  // A packet sent at time_sent was declared lost: a congestion event.
  virtual void on_packet_lost(Nanos now, Nanos time_sent, std::uint64_t bytes) = 0;

  // The congestion window in bytes.
  virtual std::uint64_t window() const noexcept = 0;
  virtual bool in_slow_start() const noexcept = 0;
};

std::unique_ptr<CongestionController> make_congestion_controller(CongestionAlgorithm algorithm,
                                                                 std::size_t max_datagram_size);

}  // namespace nyx::stream
