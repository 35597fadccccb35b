#pragma once
// BBR-N, the model-based congestion controller proposal 0003 §3.5 chose
// (design, parameters and deviations: docs/protocol.md, "Congestion
// control"). BBRv1's model — the bottleneck bandwidth as a windowed maximum
// of delivery-rate samples, the propagation delay as a windowed minimum of
// RTT samples — drives pacing at gain × bandwidth and a window of about two
// bandwidth-delay products, through STARTUP, DRAIN, PROBE_BW and PROBE_RTT.
// PROBE_BW runs BBRv3's cycle (DOWN, CRUISE, REFILL, UP) with its bounds
// on in-flight data (inflight_hi from probing, bw_lo / inflight_lo from
// congestion). The difference from BBRv3 is the loss response: loss counts
// only in excess of the path's random-loss floor (detail/loss_floor.hpp),
// and the short-term lower bounds move only when the RTT also shows a
// queue, so the 1–3 % random loss of a multi-hop circuit is not read as
// congestion. BbrParams::loss_policy = kBbrV3 restores BBRv3's rule (the
// proposal's `bbrv3-default` arm).
//
// References: draft-ietf-ccwg-bbr (BBRv3), draft-cardwell-iccrg-bbr-
// congestion-control-00 (BBRv1), Linux net/ipv4/tcp_bbr.c, google/quiche
// bbr2_*.cc.
//
// Ownership and threading: one per Session, behind CongestionController.

#include <chrono>
#include <cstdint>
#include <limits>

#include "stream/congestion_controller.hpp"
#include "stream/detail/loss_floor.hpp"
#include "stream/detail/windowed_max.hpp"

namespace nyx::stream {

struct BbrParams {
  enum class LossPolicy : std::uint8_t {
    kBbrN,   // loss beyond the random floor; lower bounds only with a queue
    kBbrV3,  // draft-ietf-ccwg-bbr as written: total loss, any loss moves lower bounds
  };
  LossPolicy loss_policy = LossPolicy::kBbrN;

  // STARTUP: 4·ln 2, the least gain that doubles the delivery rate every
  // round (draft-ietf-ccwg-bbr §5.3.1 StartupPacingGain; quiche
  // kDerivedStartupPacingGain); the window gain that lets it (same, 2).
  double startup_pacing_gain = 2.77;
  double startup_cwnd_gain = 2.0;
  // STARTUP ends when the bandwidth grew by less than 25 % for 3 rounds
  // (draft §5.3.1.2, BBRv1 and v3 alike; quiche full_bw_threshold,
  // startup_full_bw_rounds).
  double full_bw_growth = 1.25;
  std::uint32_t full_bw_rounds = 3;
  // ...or on a round with this many losses that is too lossy (draft
  // BBRStartupFullLossCnt = 6).
  std::uint32_t startup_full_loss_count = 6;
  // DRAIN empties STARTUP's queue in about one round (draft §5.3.2, BBRv3's
  // 0.35; BBRv1 used 1/2.89).
  double drain_pacing_gain = 0.35;
  // PROBE_BW pacing gains (draft §5.3.3: UP 1.25, DOWN 0.90, CRUISE and
  // REFILL 1.0) and window gains (DefaultCwndGain 2, 2.25 in UP).
  double probe_up_pacing_gain = 1.25;
  double probe_down_pacing_gain = 0.90;
  double probe_bw_cwnd_gain = 2.0;
  double probe_up_cwnd_gain = 2.25;
  // Time between bandwidth probes: 2 s plus up to 1 s (draft
  // BBRPickProbeWait), or sooner, after as many rounds as the window holds
  // packets, at most 63 (Reno coexistence; quiche probe_bw_probe_max_rounds).
  Nanos probe_wait_base = std::chrono::seconds(2);
  Nanos probe_wait_random = std::chrono::seconds(1);
  std::uint32_t reno_coexistence_max_rounds = 63;
  // Losses in one round of UP before it can be judged too lossy (quiche
  // flag quic_bbr2_default_probe_bw_full_loss_count = 2).
  std::uint32_t probe_up_full_loss_count = 2;

  // Loss rate above which a round is "too high" (draft LossThresh 2 %;
  // quiche quic_bbr2_default_loss_threshold). BBR-N applies it to the
  // excess over the floor.
  double loss_thresh = 0.02;
  // Multiplicative decrease of bw_lo / inflight_lo / inflight_hi (draft
  // Beta 0.7) and the share of inflight_hi left unused while cruising
  // (draft Headroom 0.15).
  double beta = 0.7;
  double headroom = 0.15;
  // BBR-N only: the floor is read over the last 10 clean rounds, and
  // capped at 15 % (proposal 0003 §3.5, item 3) — above that no loss is
  // "random" enough to ignore.
  double loss_floor_cap = 0.15;
  // BBR-N only: an excess counts only beyond this many binomial standard
  // deviations of the floor over the round's packets, so a round of 50
  // packets is not judged on one unlucky loss (ours; BBRv3 needs none as it
  // compares with a fixed 2 %).
  double loss_noise_sigmas = 2.0;
  // BBR-N only: the RTT shows a queue when the round's largest RTT exceeds
  // min_rtt + max(2 ms, min_rtt / 16) (proposal 0003 §3.5, item 3).
  Nanos queue_min_delay = std::chrono::milliseconds(2);
  std::uint32_t queue_rtt_divisor = 16;

  // The min-RTT filter's window and the time between PROBE_RTTs: 10 s
  // (BBRv1's; quiche quic_bbr2_default_probe_rtt_period_ms; proposal
  // 0003 §3.5 item 1 — BBRv3 probes every 5 s with a 10 s filter). PROBE_RTT
  // holds in-flight at min_cwnd for 200 ms and one round (draft
  // ProbeRTTDuration).
  Nanos probe_rtt_interval = std::chrono::seconds(10);
  Nanos probe_rtt_duration = std::chrono::milliseconds(200);
  // The smallest window, also PROBE_RTT's: 4 packets (draft BBRMinPipeCwnd;
  // proposal 0003 §3.5 item 1).
  std::uint64_t min_cwnd_packets = 4;
  // The first window: 10 datagrams, as NewReno's (RFC 9002 §7.2), so the two
  // start equal.
  std::uint64_t initial_cwnd_packets = 10;
  // ACK aggregation is measured as a maximum over 10 rounds (draft
  // BBRExtraAckedFilterLen): relays flush up to 64 cells a turn and links
  // batch, so ACKs arrive in clumps.
  std::uint64_t extra_acked_rounds = 10;
  // Pace 1 % under the estimate, so the bottleneck queue drains (draft
  // PacingMarginPercent).
  double pacing_margin = 0.01;
  // Seed of the probe-wait jitter: deterministic, so runs repeat. Every
  // client uses the same constants (proposal 0003 §3.5 item 5).
  std::uint64_t seed = 0x6262722d6e;
};

class Bbr final : public CongestionController {
 public:
  enum class Mode : std::uint8_t { kStartup, kDrain, kProbeBw, kProbeRtt };
  enum class Phase : std::uint8_t { kDown, kCruise, kRefill, kUp };

  // The model and the controls, for tests, metrics and plots.
  struct State {
    Mode mode = Mode::kStartup;
    Phase phase = Phase::kDown;
    std::uint64_t round_count = 0;
    double max_bw = 0;  // bytes per second
    double bw = 0;      // min(max_bw, bw_lo): what pacing and the BDP use
    double bw_lo = 0;   // infinity while unset
    Nanos min_rtt{0};
    double pacing_gain = 0;
    double cwnd_gain = 0;
    std::uint64_t cwnd = 0;
    std::uint64_t inflight_hi = 0;  // UINT64_MAX while unset
    std::uint64_t inflight_lo = 0;  // likewise
    std::uint64_t extra_acked = 0;
    double loss_floor = 0;
    bool filled_pipe = false;
    std::uint64_t probe_rtt_rounds = 0;  // how many PROBE_RTTs so far
    std::uint64_t lower_bound_cuts = 0;  // rounds that lowered bw_lo / inflight_lo
    std::uint64_t probes_too_high = 0;   // UPs ended by excess loss
  };

  explicit Bbr(std::size_t max_datagram_size, const BbrParams& params = {});

  void on_packet_sent(Nanos now, std::uint64_t bytes, std::uint64_t bytes_in_flight) override;
  void on_packet_acked(Nanos now, Nanos time_sent, std::uint64_t bytes,
                       std::uint64_t bytes_in_flight) override;
  void on_packet_lost(Nanos now, Nanos time_sent, std::uint64_t bytes) override;
  void on_congestion_event(const CongestionEvent& event) override;

  std::uint64_t window() const noexcept override { return cwnd_; }
  bool in_slow_start() const noexcept override { return mode_ == Mode::kStartup; }
  std::uint64_t pacing_rate() const noexcept override;
  std::uint64_t send_quantum() const noexcept override { return send_quantum_; }

  State state() const noexcept;

 private:
  static constexpr double kInfinity = std::numeric_limits<double>::infinity();
  static constexpr std::uint64_t kUnset = UINT64_MAX;
  static constexpr std::size_t kLossFloorRounds = 10;  // proposal 0003 §3.5 item 3

  // The model.
  void start_round(const CongestionEvent& e);
  void update_max_bw(const RateSample& rs);
  void update_extra_acked(const CongestionEvent& e);
  void update_min_rtt(const CongestionEvent& e);
  void end_round(const CongestionEvent& e);
  bool round_too_lossy(std::uint32_t min_loss_events) const noexcept;
  bool round_shows_queue() const noexcept;
  void adapt_lower_bounds();
  void reset_lower_bounds() noexcept;
  double bdp(double gain) const noexcept;  // bytes
  std::uint64_t target_inflight() const noexcept;

  // The state machine.
  void check_full_pipe(const RateSample& rs);
  void enter_startup();
  void enter_drain();
  void enter_down(Nanos now);
  void enter_cruise(Nanos now);
  void enter_refill(Nanos now);
  void enter_up(Nanos now);
  void set_phase(Phase phase, Nanos now, double pacing_gain, double cwnd_gain);
  void update_probe_bw(const CongestionEvent& e);
  bool time_to_probe(Nanos now) const noexcept;
  void handle_inflight_too_high(Nanos now);
  void check_probe_rtt(const CongestionEvent& e);
  void exit_probe_rtt(Nanos now);

  // The controls.
  void set_pacing_rate();
  void set_cwnd(const CongestionEvent& e);

  std::uint64_t next_random() noexcept;

  BbrParams params_;
  double mds_;
  std::uint64_t min_cwnd_;
  std::uint64_t initial_cwnd_;

  Mode mode_ = Mode::kStartup;
  Phase phase_ = Phase::kDown;
  double pacing_gain_ = 0;
  double cwnd_gain_ = 0;
  double pacing_rate_ = 0;  // bytes per second
  std::uint64_t send_quantum_ = 0;
  std::uint64_t cwnd_ = 0;
  Nanos smoothed_rtt_{0};

  // Bandwidth: the max over this cycle's and the last cycle's samples
  // (BBRv3's two-cycle MaxBwFilter), capped by bw_lo.
  double max_bw_slots_[2] = {0, 0};
  double max_bw_ = 0;
  double bw_ = 0;
  double bw_lo_ = kInfinity;
  double bw_latest_ = 0;  // this round's largest delivery rate
  std::uint64_t inflight_lo_ = kUnset;
  std::uint64_t inflight_hi_ = kUnset;
  std::uint64_t inflight_latest_ = 0;  // this round's largest delivered-per-sample
  std::uint64_t last_tx_in_flight_ = 0;

  Nanos min_rtt_{0};  // 0: no sample yet
  Nanos min_rtt_stamp_{0};
  bool probe_rtt_expired_ = false;

  // Rounds: one per flight, counted by delivered bytes (draft §5.5.1).
  std::uint64_t round_count_ = 0;
  std::uint64_t next_round_delivered_ = 0;
  bool round_start_ = false;
  std::uint64_t round_acked_ = 0;
  std::uint64_t round_lost_ = 0;
  std::uint32_t round_loss_events_ = 0;
  Nanos round_max_rtt_{0};
  std::uint32_t probing_history_ = 0;  // bit 0: this round's packets went out in UP or STARTUP
  detail::LossFloor<kLossFloorRounds> loss_floor_;

  bool filled_pipe_ = false;
  double full_bw_ = 0;
  std::uint32_t full_bw_count_ = 0;

  // PROBE_BW.
  Nanos cycle_start_{0};
  Nanos phase_start_{0};
  Nanos probe_wait_{0};
  std::uint64_t rounds_since_probe_ = 0;
  std::uint64_t rounds_in_phase_ = 0;

  // PROBE_RTT.
  Nanos probe_rtt_done_{0};  // 0: not yet drained to min_cwnd
  bool probe_rtt_round_done_ = false;
  std::uint64_t prior_cwnd_ = 0;

  // ACK aggregation (draft §5.5.9).
  detail::WindowedMax<std::uint64_t> extra_acked_;
  Nanos extra_acked_start_{0};
  std::uint64_t extra_acked_delivered_ = 0;

  std::uint64_t rng_;
  std::uint64_t probe_rtt_rounds_ = 0;
  std::uint64_t lower_bound_cuts_ = 0;
  std::uint64_t probes_too_high_ = 0;
};

}  // namespace nyx::stream
