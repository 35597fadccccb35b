#pragma once
// The seam for congestion control. A Session tells its controller what it
// sent, what was acknowledged and what was lost, and keeps the bytes in
// flight under the controller's window. NewReno (stream/new_reno.hpp) is
// the default; SessionConfig::congestion picks the algorithm, so another
// (BBR-N, stream/bbr.hpp) can be dropped in and compared on the same
// simulated links.
//
// Two granularities, so that each algorithm reads what it needs: the
// per-packet calls (on_packet_sent / acked / lost), which NewReno lives on,
// and one CongestionEvent per ACK frame or loss-timer run carrying the
// delivery-rate sample (stream/delivery_rate.hpp) and RTT state, which a
// model-based controller lives on (google/quiche's OnCongestionEvent, the
// interface proposal 0003 §3.7 asks for). The session calls the per-packet
// ones first, then the event.
//
// Ownership and threading: one per Session, owned by it, used on its thread
// only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/clock.hpp"
#include "stream/delivery_rate.hpp"

namespace nyx::stream {

enum class CongestionAlgorithm : std::uint8_t { kNewReno, kBbr };

// What one ACK frame (or one run of the loss timer) did.
struct CongestionEvent {
  Nanos now{0};
  std::uint64_t prior_in_flight = 0;  // bytes in flight before the event
  std::uint64_t bytes_in_flight = 0;  // and after it
  std::uint64_t bytes_acked = 0;      // newly acknowledged
  std::uint64_t bytes_lost = 0;       // newly declared lost
  std::uint32_t packets_lost = 0;
  std::uint64_t total_delivered = 0;  // the sampler's running count, after the event
  RateSample rate;                    // invalid for a loss-only event
  Nanos min_rtt{0};                   // the session's RTT estimate (RFC 9002 §5)
  Nanos smoothed_rtt{0};
};

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
  // After the per-packet calls of one ACK frame or loss-timer run.
  virtual void on_congestion_event(const CongestionEvent& /*event*/) {}

  // The congestion window in bytes.
  virtual std::uint64_t window() const noexcept = 0;
  virtual bool in_slow_start() const noexcept = 0;
  // Bytes per second the session paces at; 0 leaves pacing to the session's
  // own rule (RFC 9002 §7.7: 1.25 windows per smoothed RTT).
  virtual std::uint64_t pacing_rate() const noexcept { return 0; }
  // Bytes the pacer may send back to back; 0: the pacer's default burst.
  virtual std::uint64_t send_quantum() const noexcept { return 0; }
};

std::unique_ptr<CongestionController> make_congestion_controller(CongestionAlgorithm algorithm,
                                                                 std::size_t max_datagram_size);

// "newreno" / "bbr" (the spelling of nyxd's stream.congestion); false for
// anything else.
bool parse_congestion_algorithm(std::string_view name, CongestionAlgorithm& out) noexcept;
std::string_view congestion_algorithm_name(CongestionAlgorithm algorithm) noexcept;

}  // namespace nyx::stream
