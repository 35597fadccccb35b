#include "stream/pool_metrics.hpp"

namespace nyx::stream {

PoolMetrics::PoolMetrics(metrics::Registry& registry) {
  static constexpr std::array<const char*, kSizeClassCount> kNames = {"small", "medium", "large"};
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    const metrics::Labels labels = {{"class", kNames[c]}};
    gauges_[c].in_use = &registry.gauge("nyx_stream_pool_in_use_bytes",
                                        "Bytes of pooled stream buffers in use", labels);
    gauges_[c].high_water =
        &registry.gauge("nyx_stream_pool_high_water_bytes",
                        "Most bytes of pooled stream buffers ever in use", labels);
    gauges_[c].free = &registry.gauge("nyx_stream_pool_free_bytes",
                                      "Bytes of pooled stream buffers kept free for reuse", labels);
  }
}

void PoolMetrics::update() noexcept {
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    const PoolStats s = BufferPool::stats(static_cast<SizeClass>(c));
    gauges_[c].in_use->set(static_cast<std::int64_t>(s.in_use_bytes));
    gauges_[c].high_water->set(static_cast<std::int64_t>(s.high_water_bytes));
    gauges_[c].free->set(static_cast<std::int64_t>(s.free_bytes));
  }
}

}  // namespace nyx::stream
