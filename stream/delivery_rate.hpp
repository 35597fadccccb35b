#pragma once
// Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation; the
// same state as google/quiche's BandwidthSampler and Linux's
// tcp_rate.c): every ack-eliciting packet remembers how much had been
// delivered when it left, so that when it is acknowledged the bytes
// delivered between the two moments, over the longer of the send and ack
// intervals, give one delivery-rate sample per ACK. The session owns one and
// hands its samples to the congestion controller; model-based controllers
// (stream/bbr.hpp) live on them, NewReno ignores them.
//
// Ownership and threading: one per Session, used on its thread only.

#include <cstdint>

#include "core/clock.hpp"

namespace nyx::stream {

// The connection's delivery state when a packet left, kept with the packet.
struct SendState {
  std::uint64_t delivered = 0;     // bytes acknowledged before it left
  Nanos delivered_time{0};         // when `delivered` last grew
  Nanos first_sent_time{0};        // send time of the packet starting this sample's flight
  std::uint64_t lost = 0;          // bytes declared lost before it left
  std::uint64_t tx_in_flight = 0;  // bytes in flight including this packet
  bool app_limited = false;        // sent in an application-limited stretch
};

// One sample, from the most recently sent of the packets an ACK newly
// acknowledged. `valid` says an ACK acknowledged something; `delivery_rate`
// is 0 when the interval was too short to trust (below the minimum RTT,
// as the draft requires, which filters ACK compression).
struct RateSample {
  bool valid = false;
  double delivery_rate = 0;  // bytes per second
  Nanos interval{0};
  std::uint64_t delivered = 0;        // bytes delivered over the interval
  std::uint64_t prior_delivered = 0;  // the newest acked packet's SendState::delivered
  std::uint64_t tx_in_flight = 0;     // its SendState::tx_in_flight
  std::uint64_t lost = 0;             // bytes lost between its send and now
  Nanos rtt{0};                       // now − its send time (ACK delay included)
  bool app_limited = false;
};

class DeliveryRateSampler {
 public:
  // A packet of `bytes` leaves; bytes_in_flight does not count it yet.
  SendState on_sent(Nanos now, std::uint64_t bytes, std::uint64_t bytes_in_flight) noexcept;
  // Within one ACK: a packet sent at time_sent with `state` is newly
  // acknowledged (call in ascending packet-number order).
  void on_acked(Nanos now, Nanos time_sent, std::uint64_t bytes, const SendState& state) noexcept;
  void on_lost(std::uint64_t bytes) noexcept { lost_ += bytes; }
  // The sender had nothing to send although its window was open: samples
  // until what is in flight now is delivered understate the path.
  void on_app_limited(std::uint64_t bytes_in_flight) noexcept;
  // Ends the ACK: the sample of its newest acknowledged packet (invalid
  // when none was). min_rtt 0: not known yet (no interval is refused).
  RateSample take_sample(Nanos min_rtt) noexcept;

  std::uint64_t delivered() const noexcept { return delivered_; }
  std::uint64_t lost() const noexcept { return lost_; }
  bool app_limited() const noexcept { return app_limited_until_ != 0; }

 private:
  std::uint64_t delivered_ = 0;
  Nanos delivered_time_{0};
  Nanos first_sent_time_{0};
  std::uint64_t lost_ = 0;
  // Nonzero while application-limited: the `delivered` value that ends it.
  std::uint64_t app_limited_until_ = 0;

  // The sample being built by the current ACK.
  bool have_newest_ = false;
  SendState newest_;
  Nanos newest_sent_{0};
  Nanos now_{0};
};

}  // namespace nyx::stream
