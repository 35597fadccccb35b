#include "mix/detail/relay_metrics.hpp"

#include <cstdint>

#include "core/metrics/registry.hpp"

namespace nyx::mix::detail {

RelayMetrics::RelayMetrics(metrics::Registry& r)
    : counters_({{
          {&RelayCounters::cells_received,
           &r.counter("nyx_relay_cells_received_total", "Cells received from neighbours")},
          {&RelayCounters::cells_relayed,
           &r.counter("nyx_relay_cells_relayed_total", "Data cells handed to a link")},
          {&RelayCounters::dropped_malformed,
           &r.counter("nyx_relay_cells_dropped_total", "Cells dropped, by reason",
                      {{"reason", "malformed"}})},
          {&RelayCounters::dropped_unknown_circuit,
           &r.counter("nyx_relay_cells_dropped_total", "Cells dropped, by reason",
                      {{"reason", "unknown_circuit"}})},
          {&RelayCounters::dropped_queue_full,
           &r.counter("nyx_relay_cells_dropped_total", "Cells dropped, by reason",
                      {{"reason", "queue_full"}})},
          {&RelayCounters::dropped_link,
           &r.counter("nyx_relay_cells_dropped_total", "Cells dropped, by reason",
                      {{"reason", "link"}})},
          {&RelayCounters::padding_received,
           &r.counter("nyx_relay_cover_cells_total", "Cover traffic that ended here, by kind",
                      {{"kind", "link_padding"}})},
          {&RelayCounters::cover_dropped,
           &r.counter("nyx_relay_cover_cells_total", "Cover traffic that ended here, by kind",
                      {{"kind", "circuit_cover"}})},
          {&RelayCounters::creates_accepted,
           &r.counter("nyx_relay_creates_total", "CREATE cells, by result",
                      {{"result", "accepted"}})},
          {&RelayCounters::creates_rejected,
           &r.counter("nyx_relay_creates_total", "CREATE cells, by result",
                      {{"result", "rejected"}})},
          {&RelayCounters::creates_replay,
           &r.counter("nyx_relay_creates_total", "CREATE cells, by result",
                      {{"result", "replay"}})},
          {&RelayCounters::creates_refused_closed,
           &r.counter("nyx_relay_creates_total", "CREATE cells, by result",
                      {{"result", "refused_closed"}})},
          {&RelayCounters::creates_rate_limited,
           &r.counter("nyx_relay_creates_total", "CREATE cells, by result",
                      {{"result", "rate_limited"}})},
          {&RelayCounters::creates_overloaded,
           &r.counter("nyx_relay_creates_total", "CREATE cells, by result",
                      {{"result", "overloaded"}})},
          {&RelayCounters::create_dirs_accepted,
           &r.counter("nyx_relay_create_dirs_total", "CREATE_DIR cells, by result",
                      {{"result", "accepted"}})},
          {&RelayCounters::create_dirs_refused,
           &r.counter("nyx_relay_create_dirs_total", "CREATE_DIR cells, by result",
                      {{"result", "refused"}})},
          {&RelayCounters::create_dirs_rejected,
           &r.counter("nyx_relay_create_dirs_total", "CREATE_DIR cells, by result",
                      {{"result", "rejected"}})},
          {&RelayCounters::create_dirs_rate_limited,
           &r.counter("nyx_relay_create_dirs_total", "CREATE_DIR cells, by result",
                      {{"result", "rate_limited"}})},
          {&RelayCounters::early_rotations_full,
           &r.counter("nyx_onion_early_rotations_total",
                      "Onion keys held early because the current one closed, by cause",
                      {{"cause", "full"}})},
          {&RelayCounters::early_rotations_untrusted,
           &r.counter("nyx_onion_early_rotations_total",
                      "Onion keys held early because the current one closed, by cause",
                      {{"cause", "untrusted"}})},
          {&RelayCounters::destroys_received,
           &r.counter("nyx_relay_circuits_destroyed_total", "Circuits destroyed, by reason",
                      {{"reason", "destroy_cell"}})},
          {&RelayCounters::tampered,
           &r.counter("nyx_relay_circuits_destroyed_total", "Circuits destroyed, by reason",
                      {{"reason", "tampered"}})},
          {&RelayCounters::timeouts,
           &r.counter("nyx_relay_circuits_destroyed_total", "Circuits destroyed, by reason",
                      {{"reason", "timeout"}})},
      }}),
      circuits_(r.gauge("nyx_relay_circuits", "Circuits through this node")),
      queued_cells_(r.gauge("nyx_relay_queued_cells", "Data cells waiting in link queues")) {}

void RelayMetrics::update(const RelayCounters& counters, std::size_t circuits,
                          std::size_t queued_cells) {
  counters_.publish(counters);
  circuits_.set(static_cast<std::int64_t>(circuits));
  queued_cells_.set(static_cast<std::int64_t>(queued_cells));
}

}  // namespace nyx::mix::detail
