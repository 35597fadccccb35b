#include "core/metrics/bucket_histogram.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

namespace nyx::metrics {

struct BucketHistogram::Shard {
  explicit Shard(std::size_t buckets) : counts(new std::atomic<std::uint64_t>[buckets]) {
    for (std::size_t i = 0; i < buckets; ++i) {
      counts[i].store(0, std::memory_order_relaxed);
    }
  }
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts;  // one per bound, then +Inf
  std::atomic<double> sum{0};
};

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  if (!(start > 0) || !(factor > 1) || count == 0) {
    throw std::invalid_argument("exponential_buckets: start > 0, factor > 1, count >= 1");
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  double bound = start;
  for (std::size_t i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

BucketHistogram::BucketHistogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), shards_(new std::atomic<Shard*>[detail::kSlots + 1]) {
  if (bounds_.empty() ||
      !std::all_of(bounds_.begin(), bounds_.end(), [](double b) { return std::isfinite(b); }) ||
      std::adjacent_find(bounds_.begin(), bounds_.end(), std::greater_equal<>()) != bounds_.end()) {
    throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
  }
  for (std::size_t slot = 0; slot < detail::kSlots; ++slot) {
    shards_[slot].store(nullptr, std::memory_order_relaxed);
  }
  // The overflow shard always exists: the threads sharing it never allocate.
  shards_[detail::kOverflowSlot].store(new Shard(bounds_.size() + 1), std::memory_order_release);
}

BucketHistogram::~BucketHistogram() {
  for (std::size_t slot = 0; slot <= detail::kSlots; ++slot) {
    delete shards_[slot].load(std::memory_order_acquire);
  }
}

BucketHistogram::Shard& BucketHistogram::shard_of(std::size_t slot) {
  Shard* shard = shards_[slot].load(std::memory_order_relaxed);
  if (shard == nullptr) [[unlikely]] {
    shard = new Shard(bounds_.size() + 1);
    shards_[slot].store(shard, std::memory_order_release);
  }
  return *shard;
}

void BucketHistogram::observe(double v) noexcept {
  const std::size_t slot = detail::thread_slot();
  Shard& shard = shard_of(slot);
  // lower_bound: the first bound >= v, so a value equal to a bound is in it (le).
  const auto bucket =
      std::isnan(v) ? bounds_.size()
                    : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                               bounds_.begin());
  std::atomic<std::uint64_t>& cell = shard.counts[bucket];
  if (slot != detail::kOverflowSlot) [[likely]] {
    // Only this thread writes this shard: no read-modify-write needed.
    cell.store(cell.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    shard.sum.store(shard.sum.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  } else {
    cell.fetch_add(1, std::memory_order_relaxed);
    shard.sum.fetch_add(v, std::memory_order_relaxed);
  }
}

BucketHistogramSnapshot BucketHistogram::snapshot() const {
  BucketHistogramSnapshot snap;
  snap.bounds = bounds_;
  std::vector<std::uint64_t> counts(bounds_.size() + 1, 0);
  for (std::size_t slot = 0; slot <= detail::kSlots; ++slot) {
    const Shard* shard = shards_[slot].load(std::memory_order_acquire);
    if (shard == nullptr) {
      continue;
    }
    for (std::size_t i = 0; i < counts.size(); ++i) {
      counts[i] += shard->counts[i].load(std::memory_order_relaxed);
    }
    snap.sum += shard->sum.load(std::memory_order_relaxed);
  }
  // Cumulated from the same per-bucket reads, so the buckets never decrease
  // and the +Inf bucket is exactly the count.
  snap.cumulative.reserve(bounds_.size());
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    snap.count += counts[i];
    snap.cumulative.push_back(snap.count);
  }
  snap.count += counts.back();
  return snap;
}

}  // namespace nyx::metrics
