#pragma once
// Histogram: a distribution of unsigned values (latencies in ns, sizes in
// bytes) with p50/p95/p99/max, and HistogramSnapshot, a copy of one that can
// be merged with others (shards, nodes, runs).
//
// Buckets are log-linear, as in HdrHistogram: values below 16 each have
// their own bucket; above, every power of two is split into 8 equal buckets
// (exponent + 3 mantissa bits). So a reported percentile is at most 12.5 %
// above the true value (it is the top of its bucket, capped at the max), the
// 496 buckets span all of uint64, and recording costs a count-leading-zeros.
//
// For percentiles a tool computes itself (the CLI's load tool); the node's
// exposed distributions are BucketHistograms in a Registry, with the fixed
// buckets Prometheus wants. Histogram is owned by its user and thread-safe:
// like Counter, each recording thread writes its own shard (allocated on its
// first record, 4 KiB) with plain loads and stores; snapshot() adds the
// shards up. A snapshot racing records may count a value in `count` but not
// yet in `sum`, never more than was recorded.
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/metrics/detail/thread_slot.hpp"

namespace nyx::metrics {

inline constexpr std::size_t kHistogramBuckets = 496;

// The bucket that holds v.
constexpr std::size_t histogram_bucket(std::uint64_t v) noexcept {
  if (v < 8) {
    return static_cast<std::size_t>(v);
  }
  const auto exponent = static_cast<std::size_t>(std::bit_width(v) - 1);
  return (exponent - 2) * 8 + static_cast<std::size_t>((v >> (exponent - 3)) & 7);
}

// The largest value that falls into `bucket`.
constexpr std::uint64_t histogram_bucket_top(std::size_t bucket) noexcept {
  if (bucket < 8) {
    return bucket;
  }
  const std::size_t shift = bucket / 8 - 1;
  const std::uint64_t bottom = (8 + std::uint64_t{bucket % 8}) << shift;
  return bottom + ((std::uint64_t{1} << shift) - 1);
}

class HistogramSnapshot {
 public:
  std::uint64_t count() const noexcept { return count_; }
  // Sum of the recorded values (wraps past 2^64, as Prometheus sums may).
  std::uint64_t sum() const noexcept { return sum_; }
  std::uint64_t max() const noexcept { return max_; }
  // The value below which a fraction q (0..1) of the records lie: q = 0.95
  // gives p95. Within 12.5 % above the truth; percentile(1) == max(); 0 when
  // empty.
  std::uint64_t percentile(double q) const noexcept;
  // Adds other's records to this snapshot.
  void merge(const HistogramSnapshot& other) noexcept;

 private:
  friend class Histogram;
  std::array<std::uint64_t, kHistogramBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

class Histogram {
 public:
  Histogram();
  ~Histogram();
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void record(std::uint64_t v) noexcept {
    const std::size_t slot = detail::thread_slot();
    Shard* shard = shards_[slot].load(std::memory_order_relaxed);
    if (shard == nullptr) [[unlikely]] {
      shard = make_shard(slot);
    }
    const std::size_t bucket = histogram_bucket(v);
    if (slot != detail::kOverflowSlot) [[likely]] {
      // Only this thread writes this shard: plain loads and stores.
      bump(shard->buckets[bucket], 1);
      bump(shard->sum, v);
      if (v > shard->max.load(std::memory_order_relaxed)) {
        shard->max.store(v, std::memory_order_relaxed);
      }
    } else {
      shard->buckets[bucket].fetch_add(1, std::memory_order_relaxed);
      shard->sum.fetch_add(v, std::memory_order_relaxed);
      std::uint64_t max = shard->max.load(std::memory_order_relaxed);
      while (v > max && !shard->max.compare_exchange_weak(max, v, std::memory_order_relaxed)) {
      }
    }
  }

  HistogramSnapshot snapshot() const;

 private:
  struct Shard {
    std::array<std::atomic<std::uint64_t>, kHistogramBuckets> buckets{};
    std::atomic<std::uint64_t> sum{0};
    std::atomic<std::uint64_t> max{0};
  };

  static void bump(std::atomic<std::uint64_t>& cell, std::uint64_t n) noexcept {
    cell.store(cell.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // Allocates the calling thread's shard (the overflow shard always exists).
  Shard* make_shard(std::size_t slot);

  // Per-slot shards, published with release so snapshot() sees them whole.
  std::array<std::atomic<Shard*>, detail::kSlots + 1> shards_{};
};

}  // namespace nyx::metrics
