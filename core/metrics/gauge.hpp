#pragma once
// Gauge: a value that goes up and down (queue depth, open circuits, peers).
//
// Made and owned by a Registry; references stay valid for its lifetime.
// Thread-safe. Unlike Counter it is one atomic, not sharded per thread:
// set() must replace the value at once, which per-thread cells cannot do,
// and gauges are updated on state changes rather than per cell. Its own
// cache line keeps neighbours from slowing it down.
#include <atomic>
#include <cstdint>

namespace nyx::metrics {

class alignas(64) Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

}  // namespace nyx::metrics
