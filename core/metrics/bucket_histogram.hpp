#pragma once
// BucketHistogram: a Prometheus histogram — counts of observations at or
// below each of a fixed list of upper bounds (`le`), plus their sum and
// count. The bounds are explicit and fixed at construction, in the unit
// observed (seconds for durations, by Prometheus convention);
// exponential_buckets() makes the usual ones.
//
// Made and owned by a Registry (references stay valid for its lifetime), or
// standalone in tests. Thread-safe like Counter: each recording thread
// writes a shard of its own (allocated at its first observation) with plain
// loads and stores; snapshot() adds the shards up. A snapshot racing
// observations may see one in a bucket but not yet in `sum`.
//
// Not Histogram: that one keeps ~500 log-linear buckets for percentiles of
// integer values (the CLI's load tool); this one is what the node exposes.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/metrics/detail/thread_slot.hpp"

namespace nyx::metrics {

// `count` bounds: start, start * factor, start * factor^2, ...
// start > 0, factor > 1, count >= 1; throws std::invalid_argument otherwise.
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

struct BucketHistogramSnapshot {
  std::vector<double> bounds;  // finite upper bounds, increasing
  // cumulative[i]: observations <= bounds[i]. The +Inf bucket is `count`.
  std::vector<std::uint64_t> cumulative;
  std::uint64_t count = 0;
  double sum = 0;
};

class BucketHistogram {
 public:
  // bounds: finite and strictly increasing, at least one; throws
  // std::invalid_argument otherwise (a programming error, as in Registry).
  explicit BucketHistogram(std::vector<double> bounds);
  ~BucketHistogram();
  BucketHistogram(const BucketHistogram&) = delete;
  BucketHistogram& operator=(const BucketHistogram&) = delete;

  // Counts v in the first bucket whose bound is >= v (+Inf past the last;
  // NaN too, so that count stays the number of observations).
  void observe(double v) noexcept;

  std::span<const double> bounds() const noexcept { return bounds_; }
  BucketHistogramSnapshot snapshot() const;

 private:
  struct Shard;
  Shard& shard_of(std::size_t slot);

  std::vector<double> bounds_;
  // Per-slot shards, published with release so snapshot() sees them whole.
  std::unique_ptr<std::atomic<Shard*>[]> shards_;
};

}  // namespace nyx::metrics
