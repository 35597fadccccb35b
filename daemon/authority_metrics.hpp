#pragma once
// The metrics both halves of an authority feed: the service (uploads and
// votes pushed to it) and the driver (sweeps and votes it pulls) count into
// one series each, so the names and help live here once.

#include <string>
#include <string_view>

#include "core/metrics/registry.hpp"

namespace nyx::daemon::authority_metrics {

// nyx_authority_reachability_checks_total{result}: `result` is "ok" or "failed".
inline metrics::Counter& reachability_checks(metrics::Registry& registry, std::string_view result) {
  return registry.counter("nyx_authority_reachability_checks_total",
                          "Reachability handshakes of uploads and sweeps",
                          {{"result", std::string(result)}});
}

// nyx_authority_equivocations_total: an authority caught sending two
// different votes for one period, counted once, whichever half saw it.
inline metrics::Counter& equivocations(metrics::Registry& registry) {
  return registry.counter("nyx_authority_equivocations_total", "Conflicting votes seen");
}

}  // namespace nyx::daemon::authority_metrics
