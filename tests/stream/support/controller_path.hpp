#pragma once
// A tiny deterministic path for driving a CongestionController alone, in
// simulated time: a bulk sender that always has data, a FIFO bottleneck of
// a fixed rate with an optional drop-tail queue (a limit on queueing
// delay), a fixed propagation RTT, and optional random loss after the
// bottleneck from a seeded RNG. ACKs come back one per packet, in order;
// loss is detected as RFC 9002 does it (packet threshold 3, time threshold
// 9/8 RTT) and, when nothing is left to arrive, by a probe timeout. The
// sender runs the session's own pieces — DeliveryRateSampler, RttEstimator,
// Pacer — and calls the controller in the session's order, so a test sees
// what the controller would do inside stream::Session, without frames.
//
// Header-only (tests and nyx_bench_stream use it); not thread-safe.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>

#include "core/clock.hpp"
#include "stream/congestion_controller.hpp"
#include "stream/delivery_rate.hpp"
#include "stream/pacer.hpp"
#include "stream/rtt_estimator.hpp"
#include "tests/stream/support/sim_link.hpp"

namespace nyx::stream::testing {

struct PathConfig {
  double bytes_per_second = 1.25e6;           // the bottleneck
  Nanos rtt = std::chrono::milliseconds(40);  // propagation, both ways
  Nanos queue_limit{0};                       // drop-tail queueing delay; 0: unbounded
  std::uint32_t loss_per_million = 0;         // random, after the bottleneck
  std::uint64_t seed = 1;
  std::uint32_t packet_size = 1000;
};

class ControllerPath {
 public:
  ControllerPath(CongestionController& cc, const PathConfig& config)
      : cc_(cc),
        config_(config),
        rng_(config.seed),
        now_(std::chrono::seconds(1)),
        pacer_(config.packet_size, now_) {}

  Nanos now() const noexcept { return now_; }
  // Bytes acknowledged / lost so far.
  std::uint64_t delivered() const noexcept { return sampler_.delivered(); }
  std::uint64_t lost() const noexcept { return sampler_.lost(); }
  std::uint64_t sent() const noexcept { return sent_; }
  std::uint64_t queue_drops() const noexcept { return queue_drops_; }
  std::uint64_t bytes_in_flight() const noexcept { return in_flight_; }
  const RttEstimator& rtt() const noexcept { return rtt_; }
  // The bottleneck's rate from now on (a path change).
  void set_rate(double bytes_per_second) noexcept { config_.bytes_per_second = bytes_per_second; }
  // Called after every congestion event.
  void on_event(std::function<void(const CongestionEvent&)> f) { observer_ = std::move(f); }

  void run_until(Nanos end) {
    for (;;) {
      send_what_may_leave();
      Nanos next = end;
      if (!arrivals_.empty()) {
        next = std::min(next, arrivals_.front().at);
      }
      if (pacing_wait_) {
        next = std::min(next, *pacing_wait_);
      }
      if (auto t = loss_timer()) {
        next = std::min(next, std::max(*t, now_));
      }
      now_ = std::max(now_, next);
      if (now_ >= end && (arrivals_.empty() || arrivals_.front().at > now_)) {
        now_ = end;
        return;
      }
      if (!arrivals_.empty() && arrivals_.front().at <= now_) {
        const std::uint64_t pn = arrivals_.front().pn;
        arrivals_.pop_front();
        on_ack(pn);
      } else if (auto t = loss_timer(); t && *t <= now_) {
        on_loss_timer();
      }
    }
  }

 private:
  struct Packet {
    std::uint64_t pn = 0;
    Nanos sent{0};
    SendState state;
    bool done = false;
  };
  struct Arrival {
    Nanos at;
    std::uint64_t pn;
  };

  void send_what_may_leave() {
    for (;;) {
      pacing_wait_.reset();
      if (in_flight_ + config_.packet_size > cc_.window()) {
        return;
      }
      if (const std::uint64_t rate = cc_.pacing_rate(); rate != 0) {
        pacing_wait_ = pacer_.delay_at_rate(now_, rate, cc_.send_quantum());
      } else {
        pacing_wait_ = pacer_.delay(now_, cc_.window(), rtt_.smoothed());
      }
      if (pacing_wait_) {
        return;
      }
      send_one();
    }
  }

  void send_one() {
    const std::uint64_t size = config_.packet_size;
    Packet p;
    p.pn = next_pn_++;
    p.sent = now_;
    p.state = sampler_.on_sent(now_, size, in_flight_);
    cc_.on_packet_sent(now_, size, in_flight_);
    in_flight_ += size;
    sent_ += size;
    pacer_.on_sent(size);
    packets_.push_back(p);
    last_send_ = now_;
    // The bottleneck: FIFO, serialising at its rate, refusing what would
    // wait longer than the queue holds.
    const Nanos start = std::max(now_, busy_until_);
    if (config_.queue_limit > Nanos{0} && start - now_ > config_.queue_limit) {
      ++queue_drops_;
      return;
    }
    busy_until_ = start + Nanos{static_cast<std::int64_t>(static_cast<double>(size) * 1e9 /
                                                          config_.bytes_per_second)};
    if (config_.loss_per_million != 0 && rng_.next() % 1'000'000 < config_.loss_per_million) {
      return;
    }
    arrivals_.push_back(Arrival{busy_until_ + config_.rtt, p.pn});
  }

  Packet* find(std::uint64_t pn) {
    if (packets_.empty() || pn < packets_.front().pn) {
      return nullptr;
    }
    return &packets_[pn - packets_.front().pn];
  }

  void on_ack(std::uint64_t pn) {
    const std::uint64_t prior = in_flight_;
    Packet* p = find(pn);
    if (p == nullptr || p->done) {
      return;  // declared lost already: a spurious loss, as the session ignores it
    }
    p->done = true;
    cc_.on_packet_acked(now_, p->sent, config_.packet_size, in_flight_);
    sampler_.on_acked(now_, p->sent, config_.packet_size, p->state);
    in_flight_ -= config_.packet_size;
    rtt_.on_sample(now_ - p->sent, Nanos{0});
    largest_acked_ = std::max(largest_acked_, pn);
    any_acked_ = true;
    last_ack_ = now_;
    CongestionEvent e;
    e.bytes_acked = config_.packet_size;
    detect_lost(e);
    finish(e, prior);
  }

  void detect_lost(CongestionEvent& e) {
    const Nanos loss_delay = rtt_.loss_delay();
    for (Packet& p : packets_) {
      if (p.pn >= largest_acked_) {
        break;
      }
      if (!p.done && (p.pn + 3 <= largest_acked_ || p.sent <= now_ - loss_delay)) {
        declare_lost(p, e);
      }
    }
  }

  void declare_lost(Packet& p, CongestionEvent& e) {
    p.done = true;
    cc_.on_packet_lost(now_, p.sent, config_.packet_size);
    sampler_.on_lost(config_.packet_size);
    in_flight_ -= config_.packet_size;
    e.bytes_lost += config_.packet_size;
    ++e.packets_lost;
  }

  // The next time a loss could be declared without a new ACK: the time
  // threshold of the oldest packet below the largest acknowledged, or a
  // probe timeout when nothing at all is on its way back.
  std::optional<Nanos> loss_timer() const {
    for (const Packet& p : packets_) {
      if (!any_acked_ || p.pn >= largest_acked_) {
        break;
      }
      if (!p.done) {
        return p.sent + rtt_.loss_delay();
      }
    }
    if (in_flight_ > 0 && arrivals_.empty()) {
      return std::max(last_ack_, last_send_) + rtt_.pto(Nanos{0}, 0);
    }
    return std::nullopt;
  }

  void on_loss_timer() {
    const std::uint64_t prior = in_flight_;
    CongestionEvent e;
    if (arrivals_.empty() && in_flight_ > 0) {
      for (Packet& p : packets_) {
        if (!p.done) {
          declare_lost(p, e);  // nothing will come back: the probe timeout's verdict
        }
      }
    } else {
      detect_lost(e);
    }
    finish(e, prior);
  }

  void finish(CongestionEvent& e, std::uint64_t prior) {
    e.rate = sampler_.take_sample(rtt_.min());
    while (!packets_.empty() && packets_.front().done) {
      packets_.pop_front();
    }
    if (e.bytes_acked == 0 && e.bytes_lost == 0) {
      return;
    }
    e.now = now_;
    e.prior_in_flight = prior;
    e.bytes_in_flight = in_flight_;
    e.total_delivered = sampler_.delivered();
    e.min_rtt = rtt_.min();
    e.smoothed_rtt = rtt_.smoothed();
    cc_.on_congestion_event(e);
    if (observer_) {
      observer_(e);
    }
  }

  CongestionController& cc_;
  PathConfig config_;
  SplitMix rng_;
  Nanos now_;
  Pacer pacer_;
  std::optional<Nanos> pacing_wait_;
  DeliveryRateSampler sampler_;
  RttEstimator rtt_;
  std::deque<Packet> packets_;
  std::deque<Arrival> arrivals_;
  std::uint64_t next_pn_ = 0;
  std::uint64_t in_flight_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t queue_drops_ = 0;
  std::uint64_t largest_acked_ = 0;
  bool any_acked_ = false;
  Nanos busy_until_{0};
  Nanos last_ack_{0};
  Nanos last_send_{0};
  std::function<void(const CongestionEvent&)> observer_;
};

}  // namespace nyx::stream::testing
