#include "stream/delivery_rate.hpp"

#include <algorithm>

namespace nyx::stream {

SendState DeliveryRateSampler::on_sent(Nanos now, std::uint64_t bytes,
                                       std::uint64_t bytes_in_flight) noexcept {
  if (bytes_in_flight == 0) {
    // A new flight: its intervals start now, not at the last ACK of the
    // previous one (the draft's "start of a new flight" rule).
    first_sent_time_ = now;
    delivered_time_ = now;
  }
  return SendState{.delivered = delivered_,
                   .delivered_time = delivered_time_,
                   .first_sent_time = first_sent_time_,
                   .lost = lost_,
                   .tx_in_flight = bytes_in_flight + bytes,
                   .app_limited = app_limited_until_ != 0};
}

void DeliveryRateSampler::on_acked(Nanos now, Nanos time_sent, std::uint64_t bytes,
                                   const SendState& state) noexcept {
  delivered_ += bytes;
  delivered_time_ = now;
  now_ = now;
  // The newest packet (most delivered before it left; among equals the
  // latest sent) gives the sample, so it spans the shortest, freshest flight.
  if (!have_newest_ || state.delivered > newest_.delivered ||
      (state.delivered == newest_.delivered && time_sent >= newest_sent_)) {
    have_newest_ = true;
    newest_ = state;
    newest_sent_ = time_sent;
    first_sent_time_ = time_sent;
  }
}

void DeliveryRateSampler::on_app_limited(std::uint64_t bytes_in_flight) noexcept {
  app_limited_until_ = std::max<std::uint64_t>(delivered_ + bytes_in_flight, 1);
}

RateSample DeliveryRateSampler::take_sample(Nanos min_rtt) noexcept {
  if (app_limited_until_ != 0 && delivered_ > app_limited_until_) {
    app_limited_until_ = 0;
  }
  RateSample rs;
  if (!have_newest_) {
    return rs;
  }
  have_newest_ = false;
  rs.valid = true;
  rs.prior_delivered = newest_.delivered;
  rs.delivered = delivered_ - newest_.delivered;
  rs.tx_in_flight = newest_.tx_in_flight;
  rs.lost = lost_ - newest_.lost;
  rs.app_limited = newest_.app_limited;
  rs.rtt = now_ - newest_sent_;
  // The longer of the two intervals: a flight sent in a burst but
  // acknowledged at the bottleneck's pace (or the reverse, ACKs compressed
  // on the way back) must not look faster than the slower of the two.
  const Nanos send_elapsed = newest_sent_ - newest_.first_sent_time;
  const Nanos ack_elapsed = now_ - newest_.delivered_time;
  rs.interval = std::max(send_elapsed, ack_elapsed);
  if (rs.interval > Nanos{0} && rs.interval >= min_rtt) {
    rs.delivery_rate =
        static_cast<double>(rs.delivered) * 1e9 / static_cast<double>(rs.interval.count());
  }
  return rs;
}

}  // namespace nyx::stream
