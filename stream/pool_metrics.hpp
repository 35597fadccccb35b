#pragma once
// Publishes the buffer pool's counts as Prometheus gauges, per size class
// (label class="small"|"medium"|"large"):
//   nyx_stream_pool_in_use_bytes      bytes held by buffers and slices now
//   nyx_stream_pool_high_water_bytes  the most ever in use
//   nyx_stream_pool_free_bytes        bytes free in the shared pool and thread caches
//
// The pool itself stays free of metric updates on its hot path; update()
// copies its statistics into the gauges. The daemon owns one PoolMetrics per
// registry and calls update() before each scrape (or on a timer). update()
// is thread-safe; the registry must outlive this object.

#include <array>

#include "core/metrics/registry.hpp"
#include "stream/buffer_pool.hpp"

namespace nyx::stream {

class PoolMetrics {
 public:
  explicit PoolMetrics(metrics::Registry& registry);
  void update() noexcept;

 private:
  struct ClassGauges {
    metrics::Gauge* in_use = nullptr;
    metrics::Gauge* high_water = nullptr;
    metrics::Gauge* free = nullptr;
  };
  std::array<ClassGauges, kSizeClassCount> gauges_;
};

}  // namespace nyx::stream
