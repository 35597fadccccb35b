#pragma once
// TransportMetrics: a LinkManager's TransportCounters in a metrics Registry as
// the nyx_transport_* families (one family per concept, the cause as a
// label), and the gauge nyx_transport_links_up. The cell path bumps plain
// integers in TransportCounters; update(), called on every tick, adds to each
// registry counter what its field grew since the last call and sets the gauge.
//
// Owned by its LinkManager; the Registry must outlive it. Every call on the
// manager's thread (the registry's metrics are themselves thread-safe to read).

#include <cstddef>

#include "core/metrics/counter_deltas.hpp"
#include "transport/link_manager.hpp"

namespace nyx::metrics {
class Gauge;
class Registry;
}  // namespace nyx::metrics

namespace nyx::transport::detail {

class TransportMetrics {
 public:
  explicit TransportMetrics(metrics::Registry& registry);

  void update(const TransportCounters& now, std::size_t links_up);

 private:
  metrics::CounterDeltas<TransportCounters, 14> fields_;
  metrics::Gauge& links_up_;
};

}  // namespace nyx::transport::detail
