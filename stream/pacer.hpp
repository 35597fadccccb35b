#pragma once
// Pacing (RFC 9002 7.7): a token bucket of ten datagrams refilled at
// 1.25 congestion windows per smoothed RTT, so a window's worth of packets
// is spread over the round trip instead of leaving in one burst. A
// controller with a model of the path (stream/bbr.hpp) gives the rate and
// the burst itself (delay_at_rate).
//
// At a controller's rate the bucket is its send quantum, and once the bucket
// has run dry it opens again only when a whole quantum has refilled: the
// quantum is the unit a pacing engine releases at once (draft-ietf-ccwg-bbr
// §5.6.3; Linux paces TSO bursts of that size, quiche lets a send go up to a
// timer granularity early). Released one datagram at a time, a fast path
// costs one timer wake, one flush and (the peer acknowledging every second
// packet) half an ACK per datagram instead of per quantum.
//
// Ownership and threading: one per Session, used on its thread only.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/clock.hpp"

namespace nyx::stream {

class Pacer {
 public:
  static constexpr std::uint64_t kBurstPackets = 10;

  Pacer(std::size_t max_datagram_size, Nanos now);

  // nullopt when a datagram may leave now; otherwise the time it may.
  std::optional<Nanos> delay(Nanos now, std::uint64_t window, Nanos smoothed_rtt);
  // The same at a rate the controller chose (bytes per second, > 0), with a
  // bucket of `burst` bytes (0: ten datagrams; never below one datagram),
  // released a whole bucket at a time once it ran dry.
  std::optional<Nanos> delay_at_rate(Nanos now, std::uint64_t bytes_per_second,
                                     std::uint64_t burst);
  void on_sent(std::uint64_t bytes) noexcept { tokens_ -= static_cast<double>(bytes); }

 private:
  // `release`: the tokens a drained bucket must hold before it opens again.
  std::optional<Nanos> refill(Nanos now, double bytes_per_ns, double release);

  double max_datagram_size_;
  double default_capacity_;
  double capacity_;
  double tokens_;
  Nanos updated_;
  bool drained_ = false;  // ran dry and has not yet refilled to its release level
};

}  // namespace nyx::stream
