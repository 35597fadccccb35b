#pragma once
// Integer arithmetic of the token bucket, shared by TokenBucket and
// KeyedRateLimiter (private to core).
//
// The bucket is kept the GCRA way: instead of a token count and a refill
// time, one number `z`, the instant at which the bucket was (or will be)
// empty. The tokens available at time t are min(burst, (t - z) / interval).
// Admitting n tokens moves z forward by n * interval; a full bucket has its
// z pulled up to t - tau (tau = burst * interval) first. Refill is therefore
// computed from elapsed time in one subtraction, with nothing accumulated
// call after call, and the whole state fits one atomic word.
//
// Time is fixed-point nanoseconds, kFracBits fractional bits, kept as
// unsigned 64-bit values that may wrap: only differences are looked at, and
// those stay far below 2^63 (see credit()).

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/clock.hpp"

namespace nyx::detail::gcra {

// 1/4096 ns resolution: an interval is exact to 1 part in 8e12 / rate, and
// tau can span 2^49 ns (6.5 days) of refill.
inline constexpr int kFracBits = 12;
inline constexpr std::int64_t kUnitsPerNano = std::int64_t{1} << kFracBits;
// Upper bound on tau; credits at least this far in the past mean "full".
inline constexpr std::int64_t kMaxTau = std::int64_t{1} << 61;
// Real debt is never below -kWrapped. An idle bucket's elapsed time turns
// negative after 2^63 units (26 days): below -kWrapped it reads as full. After
// 2^64 units (52 days) it wraps to small again and the bucket reads emptier
// than it is: conservative, and it is full again within tau.
inline constexpr std::int64_t kWrapped = std::int64_t{1} << 62;

// `t` on the fixed-point axis (wraps every 2^52 ns; only differences count).
inline std::uint64_t to_units(Nanos t) noexcept {
  return static_cast<std::uint64_t>(t.count()) << kFracBits;
}

// Fixed-point nanoseconds per token for `tokens_per_second`, clamped so that
// burst * interval <= kMaxTau (the slowest rate refills a bucket in 6.5 days)
// and interval >= 1 (the fastest rate is 4e12 tokens a second). A rate that is
// not positive (or NaN) gets the slowest.
inline std::int64_t interval_for(double tokens_per_second, std::uint64_t burst) noexcept {
  const std::int64_t slowest = kMaxTau / static_cast<std::int64_t>(std::max<std::uint64_t>(
                                             1, std::min<std::uint64_t>(burst, kMaxTau)));
  if (!(tokens_per_second > 0.0)) {
    return slowest;
  }
  const double interval = std::round(1e9 * static_cast<double>(kUnitsPerNano) / tokens_per_second);
  if (!(interval < static_cast<double>(slowest))) {
    return slowest;
  }
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(interval));
}

// tau = burst * interval, saturated at kMaxTau.
inline std::int64_t tau_for(std::uint64_t burst, std::int64_t interval) noexcept {
  std::int64_t tau = 0;
  if (burst > static_cast<std::uint64_t>(kMaxTau) ||
      __builtin_mul_overflow(static_cast<std::int64_t>(burst), interval, &tau) || tau > kMaxTau) {
    return kMaxTau;
  }
  return tau;
}

// The cost of n tokens, or -1 when n can never fit in a bucket of `tau`.
inline std::int64_t cost_for(std::uint64_t n, std::int64_t interval, std::int64_t tau) noexcept {
  std::int64_t cost = 0;
  if (n > static_cast<std::uint64_t>(kMaxTau) ||
      __builtin_mul_overflow(static_cast<std::int64_t>(n), interval, &cost) || cost > tau) {
    return -1;
  }
  return cost;
}

// Tokens available at `now` for state `z`, in time units and capped at tau.
// Negative means debt: another thread admitted against a later clock reading
// than the `now` this caller holds.
inline std::int64_t credit(std::uint64_t now, std::uint64_t z, std::int64_t tau) noexcept {
  const auto elapsed = static_cast<std::int64_t>(now - z);
  if (elapsed >= tau || elapsed < -kWrapped) {
    return tau;
  }
  return elapsed;
}

}  // namespace nyx::detail::gcra
