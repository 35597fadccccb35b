#pragma once
// TokenBucket: the hot-path rate limiter (cells, bytes, handshakes).
//
// One object is one cache line and is lock-free: any number of threads may
// call try_acquire() at once, and it never blocks. The owner (the component
// whose traffic it limits) keeps the Clock it was given alive longer.
//
// How it works. The bucket proper is GCRA (core/detail/gcra.hpp): one atomic
// word z_, the instant at which the bucket is empty, in fixed-point
// nanoseconds. Refill is computed from elapsed time by integer arithmetic,
// so nothing drifts: over any run the admitted count is exact to within the
// rounding of the per-token interval (1 part in 8e12 / rate, i.e. 1e-6 at a
// billion tokens a second).
//
// Clock amortisation. Reading the clock costs ~27 ns here, more than the rest
// of a call, so tokens are taken from the bucket in batches: a call that
// reads the clock takes what it needs plus up to batch - 1 more tokens (if
// the bucket holds them) into pool_, and the following calls are served from
// pool_ by one compare-and-swap, without a clock. batch = burst / 16, at
// least 1 and at most 64: a bucket of burst >= 1024 reads the clock once
// per 64 admissions; a bucket of burst < 32 reads it on every call and is
// exact. Why batches rather than "admit against the last time read": tokens
// in the pool were admitted by the exact bucket at a real clock reading, so
// the bucket can never over-admit by reasoning with a stale time.
// Accuracy (pinned by tests):
//  * Since construction, admissions never exceed burst + rate * elapsed.
//  * Over any window of length w, admissions exceed burst + rate * w by at
//    most the tokens left in the pool from before the window: batch - 1 per
//    thread that refilled the pool at the same moment (so at most burst / 16
//    for one thread, 6 %).
//  * A refusal reads the clock and counts the pool too, so it is exact but
//    for races: a caller can miss pool tokens another caller holds for the
//    moment of its own refill.
//
// Rate and burst are fixed at construction (a component that needs others
// makes a new bucket). Rates are clamped to [burst per 6.5 days, 4e12 per
// second].
#include <atomic>
#include <cstdint>

#include "core/clock.hpp"

namespace nyx {

class alignas(64) TokenBucket {
 public:
  // The bucket starts full (`burst` tokens).
  TokenBucket(const Clock& clock, double tokens_per_second, std::uint64_t burst) noexcept;
  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // Takes n tokens if the bucket holds them; false (and takes nothing)
  // otherwise. n > burst is always refused; n == 0 always admitted.
  bool try_acquire(std::uint64_t n = 1) noexcept {
    // Relaxed: the bucket guards no other memory; it only needs each
    // admission to be one indivisible step.
    std::uint64_t pool = pool_.load(std::memory_order_relaxed);
    while (pool >= n) {
      if (pool_.compare_exchange_weak(pool, pool - n, std::memory_order_relaxed)) {
        return true;
      }
    }
    return acquire_from_bucket(n);
  }

  // Whole tokens available now, pool included (reads the clock); for tests
  // and status pages.
  std::uint64_t available() const noexcept;

  static constexpr std::uint64_t kMaxBatch = 64;

 private:
  // The slow path: reads the clock and takes n (plus a batch) from z_.
  bool acquire_from_bucket(std::uint64_t n) noexcept;

  const Clock* clock_;
  std::atomic<std::uint64_t> pool_{0};  // tokens admitted, not yet handed out
  std::atomic<std::uint64_t> z_;        // when the bucket is empty (fixed-point ns)
  const std::int64_t interval_;         // fixed-point ns per token
  const std::int64_t tau_;              // burst * interval
  const std::uint64_t batch_;           // tokens taken per clock read
};

static_assert(sizeof(TokenBucket) == 64 && alignof(TokenBucket) == 64,
              "a TokenBucket is exactly one cache line");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

}  // namespace nyx
