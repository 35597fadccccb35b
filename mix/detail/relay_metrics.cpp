#include "mix/detail/relay_metrics.hpp"

#include "core/metrics/registry.hpp"

namespace nyx::mix::detail {

RelayMetrics::RelayMetrics(metrics::Registry& r)
    : counters_{{
          {&RelayCounters::cells_received,
           &r.counter("nyx_relay_cells_received_total", "Cells received from neighbours")},
          {&RelayCounters::cells_relayed,
           &r.counter("nyx_relay_cells_relayed_total", "Data cells handed to a link")},
          {&RelayCounters::dropped_malformed,
           &r.counter("nyx_relay_dropped_malformed_total", "Cells dropped: malformed")},
          {&RelayCounters::dropped_unknown_circuit,
           &r.counter("nyx_relay_dropped_unknown_circuit_total",
                      "Cells dropped: no such circuit (or not yet open)")},
          {&RelayCounters::dropped_queue_full,
           &r.counter("nyx_relay_dropped_queue_full_total", "Cells dropped: link queue full")},
          {&RelayCounters::dropped_link,
           &r.counter("nyx_relay_dropped_link_total", "Cells dropped: the link refused them")},
          {&RelayCounters::padding_received,
           &r.counter("nyx_relay_padding_received_total", "Link padding cells received")},
          {&RelayCounters::cover_dropped,
           &r.counter("nyx_relay_cover_dropped_total", "Cover cells opened and dropped here")},
          {&RelayCounters::creates_accepted,
           &r.counter("nyx_relay_creates_accepted_total", "CREATE cells accepted")},
          {&RelayCounters::creates_rejected,
           &r.counter("nyx_relay_creates_rejected_total",
                      "CREATE cells rejected (MAC, replay, key, table full)")},
          {&RelayCounters::tampered,
           &r.counter("nyx_relay_tampered_total",
                      "End-to-end MAC failures (the circuit is destroyed)")},
          {&RelayCounters::destroys_received,
           &r.counter("nyx_relay_destroys_received_total", "DESTROY cells received")},
          {&RelayCounters::timeouts,
           &r.counter("nyx_relay_timeouts_total", "Circuits destroyed by setup or idle timeout")},
      }},
      circuits_(r.gauge("nyx_relay_circuits", "Circuits through this node")),
      queued_cells_(r.gauge("nyx_relay_queued_cells", "Data cells waiting in link queues")) {}

void RelayMetrics::update(const RelayCounters& counters, std::size_t circuits,
                          std::size_t queued_cells) {
  for (auto& [field, counter] : counters_) {
    if (const std::uint64_t delta = counters.*field - published_.*field; delta > 0) {
      counter->inc(delta);
    }
  }
  published_ = counters;
  circuits_.set(static_cast<std::int64_t>(circuits));
  queued_cells_.set(static_cast<std::int64_t>(queued_cells));
}

}  // namespace nyx::mix::detail
