#pragma once
// An in-memory datagram link between two channel ends, lossy on purpose:
// from a seed it loses, duplicates, delays, reorders and rate-limits
// datagrams, deterministically, on simulated time (a ManualClock). The
// stream tests and nyx_bench_stream run sessions over it; it is header-only
// so the benchmark can use it without linking test support code.
//
// Not thread-safe; one test thread drives it. Datagram storage is recycled,
// so steady traffic allocates nothing.

#include <cstdint>
#include <cstring>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/datagram_channel.hpp"

namespace nyx::stream::testing {

struct LinkConfig {
  std::uint32_t loss_permille = 0;
  std::uint32_t duplicate_permille = 0;
  std::uint32_t reorder_permille = 0;  // these get an extra random delay up to reorder_jitter
  Nanos delay = std::chrono::milliseconds(5);
  Nanos reorder_jitter = std::chrono::milliseconds(10);
  std::uint64_t bytes_per_second = 0;  // 0: unlimited
  std::size_t queue_limit = 1u << 16;  // datagrams in flight per direction
  std::size_t max_datagram_size = 990;
  bool trace = false;  // hash every delivery (determinism checks)
};

// splitmix64: small, fast and the same on every platform.
class SplitMix {
 public:
  explicit SplitMix(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint32_t below(std::uint32_t n) noexcept { return static_cast<std::uint32_t>(next() % n); }

 private:
  std::uint64_t state_;
};

class SimLink {
 public:
  class End final : public DatagramChannel {
   public:
    std::size_t max_datagram_size() const noexcept override {
      return link_->config_.max_datagram_size;
    }
    SendOutcome send(Bytes datagram) override { return link_->send(side_, datagram); }
    void set_receiver(DatagramReceiver* receiver) noexcept override { receiver_ = receiver; }
    bool closed = false;  // a closed end refuses to send

   private:
    friend class SimLink;
    SimLink* link_ = nullptr;
    int side_ = 0;
    DatagramReceiver* receiver_ = nullptr;
  };

  SimLink(const LinkConfig& config, std::uint64_t seed, ManualClock& clock)
      : config_(config), rng_(seed), clock_(clock) {
    for (int i = 0; i < 2; ++i) {
      ends_[i].link_ = this;
      ends_[i].side_ = i;
    }
  }
  SimLink(const SimLink&) = delete;
  SimLink& operator=(const SimLink&) = delete;

  End& a() noexcept { return ends_[0]; }
  End& b() noexcept { return ends_[1]; }
  // Drops everything from now on in both directions (a dead peer).
  void cut() noexcept { cut_ = true; }
  // Drops the next datagram `from` sends: a loss a test places exactly.
  void drop_next(const End& from) noexcept { drop_next_[from.side_] = true; }

  // Hands every datagram due by now to its receiver; returns how many.
  std::size_t deliver_due() {
    std::size_t n = 0;
    const Nanos now = clock_.now();
    while (!queue_.empty() && queue_.top().at <= now) {
      const Item item = queue_.top();
      queue_.pop();
      --in_flight_[item.to];
      const std::vector<std::uint8_t>& buf = slots_[item.slot];
      if (config_.trace) {
        trace_ = mix(trace_ ^ static_cast<std::uint64_t>(item.at.count()));
        trace_ = mix(trace_ ^ static_cast<std::uint64_t>(item.to));
        for (std::size_t i = 0; i + 8 <= buf.size(); i += 8) {
          std::uint64_t w;
          std::memcpy(&w, buf.data() + i, 8);
          trace_ = mix(trace_ ^ w);
        }
        trace_ = mix(trace_ ^ buf.size());
      }
      if (ends_[item.to].receiver_ != nullptr) {
        ends_[item.to].receiver_->on_datagram(Bytes{buf.data(), buf.size()});
      }
      free_slots_.push_back(item.slot);
      ++n;
    }
    delivered_ += n;
    return n;
  }

  std::optional<Nanos> next_delivery() const {
    if (queue_.empty()) {
      return std::nullopt;
    }
    return queue_.top().at;
  }

  std::uint64_t trace_hash() const noexcept { return trace_; }
  std::uint64_t sent() const noexcept { return sent_; }
  std::uint64_t delivered() const noexcept { return delivered_; }

 private:
  struct Item {
    Nanos at;
    std::uint64_t seq;
    std::size_t slot;
    int to;
    bool operator>(const Item& o) const noexcept { return at != o.at ? at > o.at : seq > o.seq; }
  };

  static std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
  }

  SendOutcome send(int from, Bytes datagram) {
    if (ends_[from].closed) {
      return SendOutcome::kClosed;
    }
    if (datagram.size() > config_.max_datagram_size) {
      return SendOutcome::kTooLarge;
    }
    const int to = 1 - from;
    if (in_flight_[to] >= config_.queue_limit) {
      return SendOutcome::kBlocked;
    }
    ++sent_;
    const Nanos now = clock_.now();
    Nanos depart = now;
    if (config_.bytes_per_second != 0) {
      depart = std::max(now, busy_until_[from]);
      busy_until_[from] =
          depart + Nanos{static_cast<std::int64_t>(datagram.size() * 1'000'000'000ull /
                                                   config_.bytes_per_second)};
      depart = busy_until_[from];
    }
    if (cut_ || std::exchange(drop_next_[from], false) ||
        (config_.loss_permille != 0 && rng_.below(1000) < config_.loss_permille)) {
      return SendOutcome::kSent;  // taken, and lost on the way
    }
    const int copies =
        config_.duplicate_permille != 0 && rng_.below(1000) < config_.duplicate_permille ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      Nanos at = depart + config_.delay;
      if (config_.reorder_permille != 0 && rng_.below(1000) < config_.reorder_permille) {
        at += Nanos{static_cast<std::int64_t>(
            rng_.next() % static_cast<std::uint64_t>(config_.reorder_jitter.count() + 1))};
      }
      std::size_t slot;
      if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
      } else {
        slot = slots_.size();
        slots_.emplace_back();
      }
      slots_[slot].assign(datagram.begin(), datagram.end());
      queue_.push(Item{at, seq_++, slot, to});
      ++in_flight_[to];
    }
    return SendOutcome::kSent;
  }

  LinkConfig config_;
  SplitMix rng_;
  ManualClock& clock_;
  End ends_[2];
  bool cut_ = false;
  bool drop_next_[2] = {false, false};
  std::vector<std::vector<std::uint8_t>> slots_;
  std::vector<std::size_t> free_slots_;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue_;
  std::uint64_t seq_ = 0;
  std::size_t in_flight_[2] = {0, 0};
  Nanos busy_until_[2] = {Nanos{0}, Nanos{0}};
  std::uint64_t trace_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t delivered_ = 0;
};

}  // namespace nyx::stream::testing
