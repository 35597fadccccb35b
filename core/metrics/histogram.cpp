#include "core/metrics/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace nyx::metrics {

std::uint64_t HistogramSnapshot::percentile(double q) const noexcept {
  if (count_ == 0) {
    return 0;
  }
  const double clamped = std::clamp(q, 0.0, 1.0);  // NaN stays NaN and ranks 1 below
  const double wanted = std::ceil(clamped * static_cast<double>(count_));
  const std::uint64_t rank =
      wanted >= 1.0 ? std::min(count_, static_cast<std::uint64_t>(wanted)) : std::uint64_t{1};
  std::uint64_t seen = 0;
  for (std::size_t bucket = 0; bucket < kHistogramBuckets; ++bucket) {
    seen += buckets_[bucket];
    if (seen >= rank) {
      return std::min(histogram_bucket_top(bucket), max_);
    }
  }
  return max_;
}

void HistogramSnapshot::merge(const HistogramSnapshot& other) noexcept {
  for (std::size_t bucket = 0; bucket < kHistogramBuckets; ++bucket) {
    buckets_[bucket] += other.buckets_[bucket];
  }
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

Histogram::Histogram() {
  shards_[detail::kOverflowSlot].store(new Shard, std::memory_order_release);
}

Histogram::~Histogram() {
  for (auto& shard : shards_) {
    delete shard.load(std::memory_order_acquire);
  }
}

Histogram::Shard* Histogram::make_shard(std::size_t slot) {
  auto* shard = new Shard;
  shards_[slot].store(shard, std::memory_order_release);
  return shard;
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot snap;
  for (const auto& published : shards_) {
    const Shard* shard = published.load(std::memory_order_acquire);
    if (shard == nullptr) {
      continue;
    }
    for (std::size_t bucket = 0; bucket < kHistogramBuckets; ++bucket) {
      const std::uint64_t n = shard->buckets[bucket].load(std::memory_order_relaxed);
      snap.buckets_[bucket] += n;
      snap.count_ += n;
    }
    snap.sum_ += shard->sum.load(std::memory_order_relaxed);
    snap.max_ = std::max(snap.max_, shard->max.load(std::memory_order_relaxed));
  }
  return snap;
}

}  // namespace nyx::metrics
