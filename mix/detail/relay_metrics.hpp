#pragma once
// RelayMetrics: a Relay's counters and gauges in a metrics Registry, one
// family per concept with the cause as a label (docs/nyxd.md, "Metrics"):
// cells received and relayed, cells dropped by reason, cover cells by kind,
// CREATEs and CREATE_DIRs by result, circuits destroyed by reason, and the
// gauges nyx_relay_circuits and nyx_relay_queued_cells. The cell path bumps plain
// integers in RelayCounters; update(), called from Relay::tick(), adds to
// each registry counter what its field grew since the last call and sets
// the gauges.
//
// Owned by its Relay; the Registry must outlive it. Every call on the relay's
// thread (the registry's metrics are themselves thread-safe to read).

#include <cstddef>

#include "core/metrics/counter_deltas.hpp"
#include "mix/relay.hpp"

namespace nyx::metrics {
class Gauge;
class Registry;
}  // namespace nyx::metrics

namespace nyx::mix::detail {

class RelayMetrics {
 public:
  explicit RelayMetrics(metrics::Registry& registry);

  void update(const RelayCounters& counters, std::size_t circuits, std::size_t queued_cells);

 private:
  metrics::CounterDeltas<RelayCounters, 26> counters_;
  metrics::Gauge& circuits_;
  metrics::Gauge& queued_cells_;
};

}  // namespace nyx::mix::detail
