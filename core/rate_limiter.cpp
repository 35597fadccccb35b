#include "core/rate_limiter.hpp"

#include <algorithm>
#include <thread>

#include "core/detail/gcra.hpp"

namespace nyx {
namespace {

namespace gcra = detail::gcra;

// credit * interval needs up to 125 bits.
__extension__ typedef __int128 Wide;

std::uint64_t batch_for(std::uint64_t burst) {
  return std::clamp<std::uint64_t>(burst / 16, 1, TokenBucket::kMaxBatch);
}

}  // namespace

TokenBucket::TokenBucket(const Clock& clock, double tokens_per_second, std::uint64_t burst) noexcept
    : clock_(&clock),
      interval_(gcra::interval_for(tokens_per_second, burst)),
      tau_(gcra::tau_for(burst, interval_.load(std::memory_order_relaxed))),
      burst_(burst),
      batch_(batch_for(burst)) {
  // Empty tau ago: full now.
  z_.store(gcra::to_units(clock.now()) - static_cast<std::uint64_t>(tau_.load()),
           std::memory_order_relaxed);
}

bool TokenBucket::acquire_from_bucket(std::uint64_t n) noexcept {
  const std::int64_t interval = interval_.load(std::memory_order_relaxed);
  const std::int64_t tau = tau_.load(std::memory_order_relaxed);
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
  const auto batch = static_cast<std::int64_t>(batch_.load(std::memory_order_relaxed));
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

void TokenBucket::change(std::int64_t interval, std::uint64_t burst) noexcept {
  const std::int64_t tau = gcra::tau_for(burst, interval);
  const std::uint64_t now = gcra::to_units(clock_->now());
  const std::int64_t old_interval = interval_.load(std::memory_order_relaxed);
  const std::int64_t old_tau = tau_.load(std::memory_order_relaxed);
  // Pooled tokens go back into the bucket, so the new burst caps them too.
  const auto pooled = static_cast<Wide>(pool_.exchange(0, std::memory_order_relaxed));
  std::uint64_t z = z_.load(std::memory_order_relaxed);
  for (;;) {
    // The tokens held now, re-expressed in the new interval and capped at the
    // new burst.
    const Wide held = static_cast<Wide>(gcra::credit(now, z, old_tau)) + pooled * old_interval;
    const Wide scaled = held * interval / old_interval;
    const auto credit = static_cast<std::int64_t>(std::min(scaled, static_cast<Wide>(tau)));
    if (z_.compare_exchange_weak(z, now - static_cast<std::uint64_t>(credit),
                                 std::memory_order_relaxed)) {
      break;
    }
  }
  interval_.store(interval, std::memory_order_relaxed);
  tau_.store(tau, std::memory_order_relaxed);
  burst_.store(burst, std::memory_order_relaxed);
  batch_.store(batch_for(burst), std::memory_order_relaxed);
}

void TokenBucket::lock_changes() noexcept {
  while (changing_.exchange(1, std::memory_order_acquire) != 0) {
    std::this_thread::yield();
  }
}

void TokenBucket::unlock_changes() noexcept { changing_.store(0, std::memory_order_release); }

void TokenBucket::set_rate(double tokens_per_second) noexcept {
  lock_changes();
  const std::uint64_t burst = burst_.load(std::memory_order_relaxed);
  change(gcra::interval_for(tokens_per_second, burst), burst);
  unlock_changes();
}

void TokenBucket::set_burst(std::uint64_t burst) noexcept {
  lock_changes();
  // The rate stays, unless the new burst puts it below the slowest allowed.
  const std::int64_t interval = interval_.load(std::memory_order_relaxed);
  change(std::min(interval, gcra::interval_for(0.0, burst)), burst);
  unlock_changes();
}

std::uint64_t TokenBucket::available() const noexcept {
  const std::int64_t credit =
      gcra::credit(gcra::to_units(clock_->now()), z_.load(std::memory_order_relaxed),
                   tau_.load(std::memory_order_relaxed));
  const std::uint64_t pool = pool_.load(std::memory_order_relaxed);
  if (credit <= 0) {
    return pool;
  }
  return pool + static_cast<std::uint64_t>(credit / interval_.load(std::memory_order_relaxed));
}

}  // namespace nyx
