#include "core/rate_limiter.hpp"

#include <algorithm>

#include "core/detail/gcra.hpp"

namespace nyx {
namespace {

namespace gcra = detail::gcra;

std::uint64_t batch_for(std::uint64_t burst) {
  return std::clamp<std::uint64_t>(burst / 16, 1, TokenBucket::kMaxBatch);
}

}  // namespace

TokenBucket::TokenBucket(const Clock& clock, double tokens_per_second, std::uint64_t burst) noexcept
    : clock_(&clock),
      interval_(gcra::interval_for(tokens_per_second, burst)),
      tau_(gcra::tau_for(burst, interval_)),
      batch_(batch_for(burst)) {
  // Empty tau ago: full now.
  z_.store(gcra::to_units(clock.now()) - static_cast<std::uint64_t>(tau_),
           std::memory_order_relaxed);
}

bool TokenBucket::acquire_from_bucket(std::uint64_t n) noexcept {
  const std::int64_t interval = interval_;
  const std::int64_t tau = tau_;
  const std::int64_t cost = gcra::cost_for(n, interval, tau);
  if (cost < 0) {
    return false;
  }
  // Count what the pool holds, so a request larger than the pool is judged on
  // pool + bucket; it goes back if the request is refused.
  const std::uint64_t from_pool = pool_.exchange(0, std::memory_order_relaxed);
  if (from_pool >= n) {  // another thread refilled it meanwhile
    pool_.fetch_add(from_pool - n, std::memory_order_relaxed);
    return true;
  }
  const std::int64_t need = cost - static_cast<std::int64_t>(from_pool) * interval;
  const auto batch = static_cast<std::int64_t>(batch_);
  const std::uint64_t now = gcra::to_units(clock_->now());
  std::uint64_t z = z_.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t credit = gcra::credit(now, z, tau);
    if (credit < need) {
      pool_.fetch_add(from_pool, std::memory_order_relaxed);
      return false;
    }
    const std::int64_t extra = std::min(batch - 1, (credit - need) / interval);
    const std::uint64_t next = now - static_cast<std::uint64_t>(credit - need - extra * interval);
    if (z_.compare_exchange_weak(z, next, std::memory_order_relaxed)) {
      if (extra > 0) {
        pool_.fetch_add(static_cast<std::uint64_t>(extra), std::memory_order_relaxed);
      }
      return true;
    }
  }
}

std::uint64_t TokenBucket::available() const noexcept {
  const std::int64_t credit =
      gcra::credit(gcra::to_units(clock_->now()), z_.load(std::memory_order_relaxed), tau_);
  const std::uint64_t pool = pool_.load(std::memory_order_relaxed);
  if (credit <= 0) {
    return pool;
  }
  return pool + static_cast<std::uint64_t>(credit / interval_);
}

}  // namespace nyx
