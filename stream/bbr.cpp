#include "stream/bbr.hpp"

#include <algorithm>
#include <cmath>

namespace nyx::stream {
namespace {

using namespace std::chrono_literals;

constexpr double kSecondsPerNano = 1e-9;
// Below this pacing rate the send quantum is one datagram, above it two
// (draft-ietf-ccwg-bbr BBRSetSendQuantum: 1.2 Mbit/s); it grows to 1 ms of
// sending and at most 64 KiB.
constexpr double kSmallQuantumRate = 1.2e6 / 8;
constexpr Nanos kQuantumTime = 1ms;
constexpr double kMaxQuantum = 64 * 1024;

// A multiplication, not a division by 1e9: this runs several times per ACK,
// and a double division costs as much as the rest of the arithmetic.
double seconds(Nanos t) noexcept { return static_cast<double>(t.count()) * kSecondsPerNano; }

}  // namespace

Bbr::Bbr(std::size_t max_datagram_size, const BbrParams& params)
    : params_(params),
      mds_(static_cast<double>(max_datagram_size)),
      min_cwnd_(params.min_cwnd_packets * max_datagram_size),
      initial_cwnd_(params.initial_cwnd_packets * max_datagram_size),
      cwnd_(initial_cwnd_),
      loss_floor_(params.loss_floor_cap),
      extra_acked_(params.extra_acked_rounds),
      rng_(params.seed) {
  enter_startup();
  set_pacing_rate();
}

// BBR reads everything from the per-ACK event.
void Bbr::on_packet_sent(Nanos, std::uint64_t, std::uint64_t) {}
void Bbr::on_packet_acked(Nanos, Nanos, std::uint64_t, std::uint64_t) {}
void Bbr::on_packet_lost(Nanos, Nanos, std::uint64_t) {}

std::uint64_t Bbr::pacing_rate() const noexcept {
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(pacing_rate_));
}

// The order of draft-ietf-ccwg-bbr §5.2.3 (BBRUpdateModelAndState, then
// BBRUpdateControlParameters).
void Bbr::on_congestion_event(const CongestionEvent& e) {
  smoothed_rtt_ = e.smoothed_rtt;
  const RateSample& rs = e.rate;
  round_acked_ += e.bytes_acked;
  round_lost_ += e.bytes_lost;
  round_loss_events_ += e.packets_lost;
  if (rs.valid) {
    round_max_rtt_ = std::max(round_max_rtt_, rs.rtt);
    last_tx_in_flight_ = rs.tx_in_flight;
  }
  start_round(e);
  update_max_bw(rs);
  if (rs.valid) {
    bw_latest_ = std::max(bw_latest_, rs.delivery_rate);
    inflight_latest_ = std::max(inflight_latest_, rs.delivered);
  }
  update_extra_acked(e);
  if (round_start_) {
    end_round(e);
  }
  switch (mode_) {
    case Mode::kStartup:
      if (filled_pipe_) {
        enter_drain();
      }
      break;
    case Mode::kDrain:
      if (static_cast<double>(e.bytes_in_flight) <= bdp(1.0)) {
        enter_down(e.now);
      }
      break;
    case Mode::kProbeBw:
      update_probe_bw(e);
      break;
    case Mode::kProbeRtt:
      break;
  }
  update_min_rtt(e);
  check_probe_rtt(e);
  if (round_start_) {
    // The new round's signals start from this sample (BBRAdvanceLatestDeliverySignals).
    bw_latest_ = rs.valid ? rs.delivery_rate : 0;
    inflight_latest_ = rs.valid ? rs.delivered : 0;
  }
  bw_ = std::min(max_bw_, bw_lo_);
  set_pacing_rate();
  set_cwnd(e);
}

// --- the model ------------------------------------------------------------------

void Bbr::start_round(const CongestionEvent& e) {
  round_start_ = false;
  if (e.rate.valid && e.rate.prior_delivered >= next_round_delivered_) {
    next_round_delivered_ = e.total_delivered;
    ++round_count_;
    ++rounds_since_probe_;
    ++rounds_in_phase_;
    round_start_ = true;
  }
}

void Bbr::update_max_bw(const RateSample& rs) {
  if (!rs.valid || rs.delivery_rate <= 0) {
    return;
  }
  // An application-limited sample only counts when it beats the model: it
  // can show the path is faster, never that it is slower.
  if (rs.delivery_rate >= max_bw_ || !rs.app_limited) {
    max_bw_slots_[1] = std::max(max_bw_slots_[1], rs.delivery_rate);
    max_bw_ = std::max(max_bw_slots_[0], max_bw_slots_[1]);
  }
}

void Bbr::update_extra_acked(const CongestionEvent& e) {
  if (mode_ == Mode::kStartup) {
    // Deliveries double every round in STARTUP and would all look like a
    // clump; quiche's BBRv2 leaves them out too (startup_include_extra_acked).
    return;
  }
  // How far deliveries ran ahead of what the bandwidth estimate explains
  // since the last time they fell behind it: the clump an aggregating
  // relay or receiver releases at once.
  const double expected = bw_ * seconds(e.now - extra_acked_start_);
  if (extra_acked_start_ == Nanos{0} || static_cast<double>(extra_acked_delivered_) <= expected) {
    extra_acked_delivered_ = 0;
    extra_acked_start_ = e.now;
    extra_acked_delivered_ += e.bytes_acked;
    extra_acked_.update(std::min(e.bytes_acked, cwnd_), round_count_);
    return;
  }
  extra_acked_delivered_ += e.bytes_acked;
  const double extra = static_cast<double>(extra_acked_delivered_) - expected;
  extra_acked_.update(std::min(static_cast<std::uint64_t>(std::max(0.0, extra)), cwnd_),
                      round_count_);
}

void Bbr::update_min_rtt(const CongestionEvent& e) {
  probe_rtt_expired_ = min_rtt_ != Nanos{0} && e.now > min_rtt_stamp_ + params_.probe_rtt_interval;
  const Nanos rtt = e.rate.valid ? e.rate.rtt : Nanos{0};
  if (rtt <= Nanos{0}) {
    return;
  }
  // Strictly lower, as BBRv3's probe_rtt_min_delay: an equal RTT does not
  // postpone PROBE_RTT, so a queue that never drains is still found.
  if (min_rtt_ == Nanos{0} || rtt < min_rtt_ || probe_rtt_expired_) {
    min_rtt_ = rtt;
    min_rtt_stamp_ = e.now;
  }
}

void Bbr::end_round(const CongestionEvent& e) {
  // The round that just ended acknowledged packets sent one round earlier:
  // with the shift done now, bits 0 and 1 cover both.
  const bool probing = (probing_history_ & 0b11) != 0;
  probing_history_ =
      (probing_history_ << 1) |
      ((mode_ == Mode::kStartup || (mode_ == Mode::kProbeBw && phase_ == Phase::kUp)) ? 1u : 0u);
  const bool queue = round_shows_queue();
  const bool bbr_n = params_.loss_policy == BbrParams::LossPolicy::kBbrN;

  if (bbr_n && !queue && (!probing || mode_ == Mode::kStartup)) {
    // A round without a queue: what it lost was random (STARTUP's rounds
    // count before the pipe is full, which is when they show no queue).
    loss_floor_.add_round(round_lost_, round_acked_ + round_lost_);
  }

  check_full_pipe(e.rate);
  if (mode_ == Mode::kStartup && !filled_pipe_ &&
      round_too_lossy(params_.startup_full_loss_count) && (!bbr_n || queue)) {
    // STARTUP overfilled a shallow queue (draft BBRCheckStartupHighLoss).
    filled_pipe_ = true;
    inflight_hi_ =
        static_cast<std::uint64_t>(std::max(bdp(1.0), static_cast<double>(inflight_latest_)));
  }

  if (!probing && mode_ == Mode::kProbeBw) {
    const bool congested = bbr_n ? round_too_lossy(1) && queue : round_lost_ > 0;
    if (congested) {
      adapt_lower_bounds();
    }
  }

  round_acked_ = 0;
  round_lost_ = 0;
  round_loss_events_ = 0;
  round_max_rtt_ = Nanos{0};
}

bool Bbr::round_too_lossy(std::uint32_t min_loss_events) const noexcept {
  const std::uint64_t total = round_acked_ + round_lost_;
  if (round_loss_events_ < min_loss_events || total == 0 || round_lost_ == 0) {
    return false;
  }
  const double rate = static_cast<double>(round_lost_) / static_cast<double>(total);
  if (params_.loss_policy == BbrParams::LossPolicy::kBbrV3) {
    return rate > params_.loss_thresh;
  }
  const double floor = loss_floor_.rate();
  // Binomial spread of the floor over this round's packets; at least that
  // of a 0.5 % floor, so a clean path's first loss is not an excess.
  const double packets = std::max(1.0, static_cast<double>(total) / mds_);
  const double p = std::max(floor, 0.005);
  const double noise = params_.loss_noise_sigmas * std::sqrt(p * (1 - p) / packets);
  return rate - floor > params_.loss_thresh + noise;
}

bool Bbr::round_shows_queue() const noexcept {
  if (min_rtt_ == Nanos{0} || round_max_rtt_ == Nanos{0}) {
    return false;
  }
  const Nanos slack = std::max(params_.queue_min_delay, min_rtt_ / params_.queue_rtt_divisor);
  return round_max_rtt_ > min_rtt_ + slack;
}

// BBRv3's BBRAdaptLowerBoundsFromCongestion (draft §5.5.10.3): move both
// lower bounds a step of beta towards what the last round delivered.
void Bbr::adapt_lower_bounds() {
  if (bw_lo_ == kInfinity) {
    bw_lo_ = max_bw_;
  }
  bw_lo_ = std::max(bw_latest_, params_.beta * bw_lo_);
  if (inflight_lo_ == kUnset) {
    inflight_lo_ = cwnd_;
  }
  inflight_lo_ =
      std::max(inflight_latest_,
               static_cast<std::uint64_t>(params_.beta * static_cast<double>(inflight_lo_)));
  ++lower_bound_cuts_;
}

void Bbr::reset_lower_bounds() noexcept {
  bw_lo_ = kInfinity;
  inflight_lo_ = kUnset;
}

double Bbr::bdp(double gain) const noexcept {
  if (min_rtt_ == Nanos{0} || bw_ <= 0) {
    return static_cast<double>(initial_cwnd_) * gain;
  }
  return gain * bw_ * seconds(min_rtt_);
}

std::uint64_t Bbr::target_inflight() const noexcept {
  return std::min(static_cast<std::uint64_t>(bdp(1.0)), cwnd_);
}

// --- the state machine ----------------------------------------------------------

void Bbr::check_full_pipe(const RateSample& rs) {
  if (filled_pipe_ || !rs.valid || rs.app_limited) {
    return;
  }
  if (max_bw_ >= full_bw_ * params_.full_bw_growth) {
    full_bw_ = max_bw_;
    full_bw_count_ = 0;
    return;
  }
  if (++full_bw_count_ >= params_.full_bw_rounds) {
    filled_pipe_ = true;
  }
}

void Bbr::enter_startup() {
  mode_ = Mode::kStartup;
  pacing_gain_ = params_.startup_pacing_gain;
  cwnd_gain_ = params_.startup_cwnd_gain;
}

void Bbr::enter_drain() {
  mode_ = Mode::kDrain;
  pacing_gain_ = params_.drain_pacing_gain;
  cwnd_gain_ = params_.startup_cwnd_gain;
}

void Bbr::set_phase(Phase phase, Nanos now, double pacing_gain, double cwnd_gain) {
  mode_ = Mode::kProbeBw;
  phase_ = phase;
  phase_start_ = now;
  rounds_in_phase_ = 0;
  pacing_gain_ = pacing_gain;
  cwnd_gain_ = cwnd_gain;
}

void Bbr::enter_down(Nanos now) {
  // A new cycle: the bandwidth filter moves on, so a sample older than two
  // cycles is forgotten (BBRAdvanceMaxBwFilter).
  max_bw_slots_[0] = max_bw_slots_[1];
  max_bw_slots_[1] = 0;
  max_bw_ = std::max(max_bw_slots_[0], max_bw_slots_[1]);
  cycle_start_ = now;
  rounds_since_probe_ = 0;
  const double jitter = static_cast<double>(next_random() % 1'000'000) / 1e6;
  probe_wait_ = params_.probe_wait_base +
                Nanos{static_cast<std::int64_t>(
                    jitter * static_cast<double>(params_.probe_wait_random.count()))};
  set_phase(Phase::kDown, now, params_.probe_down_pacing_gain, params_.probe_bw_cwnd_gain);
}

void Bbr::enter_cruise(Nanos now) {
  set_phase(Phase::kCruise, now, 1.0, params_.probe_bw_cwnd_gain);
}

void Bbr::enter_refill(Nanos now) {
  // The probe starts from the long-term model: whatever congestion cut
  // before is measured afresh (BBRStartProbeBW_REFILL).
  reset_lower_bounds();
  set_phase(Phase::kRefill, now, 1.0, params_.probe_bw_cwnd_gain);
}

void Bbr::enter_up(Nanos now) {
  set_phase(Phase::kUp, now, params_.probe_up_pacing_gain, params_.probe_up_cwnd_gain);
}

bool Bbr::time_to_probe(Nanos now) const noexcept {
  if (now - cycle_start_ > probe_wait_) {
    return true;
  }
  // rounds >= min(max_rounds, max(floor(bdp / mds), 1)), checked on every
  // ACK while cruising, without the division: for rounds >= 1,
  // rounds >= floor(bdp / mds) holds exactly when (rounds + 1) * mds > bdp.
  const std::uint64_t rounds = rounds_since_probe_;
  if (rounds >= params_.reno_coexistence_max_rounds) {
    return true;
  }
  return rounds != 0 && static_cast<double>(rounds + 1) * mds_ > bdp(1.0);
}

void Bbr::handle_inflight_too_high(Nanos now) {
  // The probe found the level where excess loss begins: remember it,
  // keeping at least beta of the target (BBRHandleInflightTooHigh).
  inflight_hi_ =
      std::max(last_tx_in_flight_,
               static_cast<std::uint64_t>(params_.beta * static_cast<double>(target_inflight())));
  ++probes_too_high_;
  enter_down(now);
}

void Bbr::update_probe_bw(const CongestionEvent& e) {
  const bool too_lossy = round_too_lossy(params_.probe_up_full_loss_count);
  if (!too_lossy && inflight_hi_ != kUnset && last_tx_in_flight_ > inflight_hi_) {
    inflight_hi_ = last_tx_in_flight_;  // the path carried more than the bound: raise it
  }
  const double in_flight = static_cast<double>(e.bytes_in_flight);
  switch (phase_) {
    case Phase::kDown:
      if (time_to_probe(e.now)) {
        enter_refill(e.now);
      } else if ((inflight_hi_ == kUnset ||
                  in_flight <= (1 - params_.headroom) * static_cast<double>(inflight_hi_)) &&
                 (in_flight <= bdp(1.0) || e.now - phase_start_ > min_rtt_)) {
        enter_cruise(e.now);
      }
      break;
    case Phase::kCruise:
      if (time_to_probe(e.now)) {
        enter_refill(e.now);
      }
      break;
    case Phase::kRefill:
      if (round_start_ && rounds_in_phase_ >= 1) {
        enter_up(e.now);
      }
      break;
    case Phase::kUp:
      if (too_lossy) {
        handle_inflight_too_high(e.now);
      } else if (rounds_in_phase_ >= 1 &&
                 in_flight >=
                     params_.full_bw_growth * bdp(1.0) + static_cast<double>(extra_acked_.get())) {
        enter_down(e.now);  // a queue of a quarter BDP: the probe has shown what it can
      }
      break;
  }
}

void Bbr::check_probe_rtt(const CongestionEvent& e) {
  if (mode_ != Mode::kProbeRtt && probe_rtt_expired_) {
    prior_cwnd_ = std::max(prior_cwnd_, cwnd_);
    mode_ = Mode::kProbeRtt;
    pacing_gain_ = 1.0;
    cwnd_gain_ = 1.0;
    probe_rtt_done_ = Nanos{0};
    probe_rtt_round_done_ = false;
    ++probe_rtt_rounds_;
  }
  if (mode_ != Mode::kProbeRtt) {
    return;
  }
  if (probe_rtt_done_ == Nanos{0}) {
    if (e.bytes_in_flight <= min_cwnd_) {
      // Drained: hold for the duration and one full round.
      probe_rtt_done_ = e.now + params_.probe_rtt_duration;
      probe_rtt_round_done_ = false;
      next_round_delivered_ = e.total_delivered;
    }
    return;
  }
  if (round_start_) {
    probe_rtt_round_done_ = true;
  }
  if (probe_rtt_round_done_ && e.now > probe_rtt_done_) {
    exit_probe_rtt(e.now);
  }
}

void Bbr::exit_probe_rtt(Nanos now) {
  min_rtt_stamp_ = now;
  probe_rtt_expired_ = false;
  reset_lower_bounds();
  cwnd_ = std::max(cwnd_, prior_cwnd_);
  prior_cwnd_ = 0;
  if (filled_pipe_) {
    // BBRExitProbeRTT: a new cycle, straight to cruising.
    enter_down(now);
    enter_cruise(now);
  } else {
    enter_startup();
  }
}

// --- the controls ---------------------------------------------------------------

void Bbr::set_pacing_rate() {
  double rate;
  if (bw_ <= 0) {
    // No sample yet: the first window over the smoothed RTT, or over 1 ms
    // before there is one (draft BBRInitPacingRate).
    const double rtt = smoothed_rtt_ > Nanos{0} ? seconds(smoothed_rtt_) : 1e-3;
    rate = params_.startup_pacing_gain * static_cast<double>(initial_cwnd_) / rtt;
  } else {
    rate = pacing_gain_ * bw_ * (1 - params_.pacing_margin);
  }
  // STARTUP never slows down on a low sample; after it the rate follows
  // the model both ways.
  if (filled_pipe_ || rate > pacing_rate_) {
    pacing_rate_ = rate;
  }
  const double floor_quantum = pacing_rate_ < kSmallQuantumRate ? mds_ : 2 * mds_;
  send_quantum_ = static_cast<std::uint64_t>(
      std::clamp(pacing_rate_ * seconds(kQuantumTime), floor_quantum, kMaxQuantum));
}

void Bbr::set_cwnd(const CongestionEvent& e) {
  // BBRv3's max_inflight: the BDP at the window gain, plus the ACK clump,
  // plus a few send quanta for pacing granularity (BBRQuantizationBudget).
  double target = bdp(cwnd_gain_) + static_cast<double>(extra_acked_.get()) +
                  3.0 * static_cast<double>(send_quantum_);
  target = std::max(target, static_cast<double>(min_cwnd_));
  const auto target_bytes = static_cast<std::uint64_t>(target);
  if (filled_pipe_) {
    cwnd_ = std::min(cwnd_ + e.bytes_acked, target_bytes);
  } else if (cwnd_ < target_bytes || e.total_delivered < initial_cwnd_) {
    cwnd_ += e.bytes_acked;
  }
  cwnd_ = std::max(cwnd_, min_cwnd_);

  // The bounds (BBRBoundCwndForModel). UP may exceed inflight_hi: that is
  // what it probes (quiche probe_up_ignore_inflight_hi).
  std::uint64_t cap = kUnset;
  if (mode_ == Mode::kProbeBw && phase_ != Phase::kCruise && phase_ != Phase::kUp) {
    cap = inflight_hi_;
  } else if (mode_ == Mode::kProbeRtt || (mode_ == Mode::kProbeBw && phase_ == Phase::kCruise)) {
    if (inflight_hi_ != kUnset) {
      cap = static_cast<std::uint64_t>((1 - params_.headroom) * static_cast<double>(inflight_hi_));
    }
  }
  cap = std::min(cap, inflight_lo_);
  if (cap != kUnset) {
    cwnd_ = std::min(cwnd_, std::max(cap, min_cwnd_));
  }
  if (mode_ == Mode::kProbeRtt) {
    cwnd_ = std::min(cwnd_, min_cwnd_);
  }
}

std::uint64_t Bbr::next_random() noexcept {
  // splitmix64: deterministic, the same on every platform.
  std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Bbr::State Bbr::state() const noexcept {
  return State{.mode = mode_,
               .phase = phase_,
               .round_count = round_count_,
               .max_bw = max_bw_,
               .bw = bw_,
               .bw_lo = bw_lo_,
               .min_rtt = min_rtt_,
               .pacing_gain = pacing_gain_,
               .cwnd_gain = cwnd_gain_,
               .cwnd = cwnd_,
               .inflight_hi = inflight_hi_,
               .inflight_lo = inflight_lo_,
               .extra_acked = extra_acked_.get(),
               .loss_floor = loss_floor_.rate(),
               .filled_pipe = filled_pipe_,
               .probe_rtt_rounds = probe_rtt_rounds_,
               .lower_bound_cuts = lower_bound_cuts_,
               .probes_too_high = probes_too_high_};
}

}  // namespace nyx::stream
