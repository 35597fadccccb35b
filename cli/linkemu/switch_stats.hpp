#pragma once
// What the link emulator's switch counts, and the statistics file it writes
// from those counts (DIR/emulator-stats.json: read by
// tests/integration/linkemu_netns_test.cpp and scripts/bench_wan_report.py):
// per-port and switch-wide counters, the lateness and ingest-lag histograms,
// the model's link and shaper counters, and the verdict of
// docs/proposals/0003 §2.4.6 (were the run's results the emulated links', or
// did the emulator fall behind?).
//
// Plain data filled in by the switch's one thread; not thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "cli/linkemu/link_model.hpp"
#include "cli/linkemu/switch_config.hpp"

namespace nyx::linkemu {

// Log-linear histogram of durations: 10 us steps below 1 ms, 100 us below
// 10 ms, 1 ms below 100 ms, then one overflow bucket.
class LatencyHistogram {
 public:
  void add(Nanos value);
  // Upper bound of the bucket holding quantile q, in microseconds (never
  // above the largest value seen).
  std::int64_t quantile_us(double q) const;
  std::int64_t max_us() const { return max_ / kMicro; }
  std::uint64_t total() const { return total_; }

 private:
  static constexpr std::size_t kBuckets = 281;
  static std::int64_t upper_us(std::size_t bucket);

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  Nanos max_ = 0;
};

// One hub port (the hub-side veth end of a test host).
struct PortStats {
  std::string name;
  std::size_t host = 0;  // model index
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
  std::uint64_t ring_drops = 0;  // PACKET_STATISTICS tp_drops: socket buffer overflow
  std::uint64_t tx_errors = 0;
};

struct SwitchStats {
  std::uint64_t forwarded = 0;
  std::uint64_t non_ipv4 = 0;
  std::uint64_t unknown_destination = 0;
  std::uint64_t truncated = 0;
  std::uint64_t pool_drops = 0;
  std::uint64_t clock_steps = 0;
  std::uint64_t late_over_1ms = 0;
  std::uint64_t wakeups = 0;
  std::uint64_t ring_drops = 0;  // the shared RX ring's; each port counts its own
  LatencyHistogram lateness;     // release time to the sendmmsg of the frame
  LatencyHistogram ingest_lag;   // kernel receive stamp to the model
};

// Writes the statistics file to config.stats_path (a temporary file renamed
// over it, so a reader never sees half of one); nothing when the path is
// empty. `ring`: frames were read from the TPACKET_V2 ring; `elapsed`: the
// run's wall time so far, for the CPU share.
void write_switch_stats(const SwitchConfig& config, const LinkModel& model,
                        std::span<const PortStats> ports, const SwitchStats& stats, bool ring,
                        Nanos elapsed);

}  // namespace nyx::linkemu
