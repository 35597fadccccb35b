#pragma once
// NewReno congestion control as RFC 9002 section 7 describes it: slow start
// from ten datagrams, halving (down to two datagrams) once per recovery
// period, and growth only while the window is what limits the sender
// (7.8), so an application-limited session does not inflate it.
//
// Ownership and threading: one per Session, behind CongestionController.

#include "stream/congestion_controller.hpp"

namespace nyx::stream {

class NewReno final : public CongestionController {
 public:
  static constexpr std::uint64_t kInitialWindowPackets = 10;
  static constexpr std::uint64_t kMinWindowPackets = 2;

  explicit NewReno(std::size_t max_datagram_size);

  void on_packet_sent(Nanos now, std::uint64_t bytes, std::uint64_t bytes_in_flight) override;
  void on_packet_acked(Nanos now, Nanos time_sent, std::uint64_t bytes,
                       std::uint64_t bytes_in_flight) override;
  void on_packet_lost(Nanos now, Nanos time_sent, std::uint64_t bytes) override;

  std::uint64_t window() const noexcept override { return window_; }
  bool in_slow_start() const noexcept override { return window_ < ssthresh_; }

 private:
  std::uint64_t max_datagram_size_;
  std::uint64_t window_;
  std::uint64_t ssthresh_ = UINT64_MAX;
  // Packets sent before this belong to the current recovery period.
  Nanos recovery_start_{-1};
};

}  // namespace nyx::stream
