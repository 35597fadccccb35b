#include "mix/detail/relay_metrics.hpp"

#include <cstdint>

#include "core/metrics/registry.hpp"

namespace nyx::mix::detail {

namespace {

// One counter of a labelled family each: the families' names and help in one place.
metrics::Counter& dropped(metrics::Registry& r, const char* reason) {
  return r.counter("nyx_relay_cells_dropped_total", "Cells dropped, by reason",
                   {{"reason", reason}});
}
metrics::Counter& creates(metrics::Registry& r, const char* result) {
  return r.counter("nyx_relay_creates_total", "CREATE cells, by result", {{"result", result}});
}
metrics::Counter& create_dirs(metrics::Registry& r, const char* result) {
  return r.counter("nyx_relay_create_dirs_total", "CREATE_DIR cells, by result",
                   {{"result", result}});
}
metrics::Counter& destroyed(metrics::Registry& r, const char* reason) {
  return r.counter("nyx_relay_circuits_destroyed_total", "Circuits destroyed, by reason",
                   {{"reason", reason}});
}

}  // namespace

RelayMetrics::RelayMetrics(metrics::Registry& r)
    : counters_({{
          {&RelayCounters::cells_received,
           &r.counter("nyx_relay_cells_received_total", "Cells received from neighbours")},
          {&RelayCounters::cells_relayed,
           &r.counter("nyx_relay_cells_relayed_total", "Data cells handed to a link")},
          {&RelayCounters::dropped_malformed, &dropped(r, "malformed")},
          {&RelayCounters::dropped_unknown_circuit, &dropped(r, "unknown_circuit")},
          {&RelayCounters::dropped_queue_full, &dropped(r, "queue_full")},
          {&RelayCounters::dropped_link, &dropped(r, "link")},
          {&RelayCounters::dropped_replayed, &dropped(r, "replayed")},
          {&RelayCounters::dropped_too_old, &dropped(r, "too_old")},
          {&RelayCounters::padding_received,
           &r.counter("nyx_relay_cover_cells_total", "Cover traffic that ended here, by kind",
                      {{"kind", "link_padding"}})},
          {&RelayCounters::cover_dropped,
           &r.counter("nyx_relay_cover_cells_total", "Cover traffic that ended here, by kind",
                      {{"kind", "circuit_cover"}})},
          {&RelayCounters::creates_accepted, &creates(r, "accepted")},
          {&RelayCounters::creates_rejected, &creates(r, "rejected")},
          {&RelayCounters::creates_replay, &creates(r, "replay")},
          {&RelayCounters::creates_refused_closed, &creates(r, "refused_closed")},
          {&RelayCounters::creates_rate_limited, &creates(r, "rate_limited")},
          {&RelayCounters::creates_overloaded, &creates(r, "overloaded")},
          {&RelayCounters::create_dirs_accepted, &create_dirs(r, "accepted")},
          {&RelayCounters::create_dirs_refused, &create_dirs(r, "refused")},
          {&RelayCounters::create_dirs_rejected, &create_dirs(r, "rejected")},
          {&RelayCounters::create_dirs_rate_limited, &create_dirs(r, "rate_limited")},
          {&RelayCounters::early_rotations_full,
           &r.counter("nyx_onion_early_rotations_total",
                      "Onion keys held early because the current one closed, by cause",
                      {{"cause", "full"}})},
          {&RelayCounters::early_rotations_untrusted,
           &r.counter("nyx_onion_early_rotations_total",
                      "Onion keys held early because the current one closed, by cause",
                      {{"cause", "untrusted"}})},
          {&RelayCounters::destroys_received, &destroyed(r, "destroy_cell")},
          {&RelayCounters::tampered, &destroyed(r, "tampered")},
          {&RelayCounters::cell_limits, &destroyed(r, "cell_limit")},
          {&RelayCounters::timeouts, &destroyed(r, "timeout")},
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
