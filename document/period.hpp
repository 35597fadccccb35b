#pragma once
// Period: the network's period P, which is also the onion-key epoch, and the
// times derived from it (proposal 0002 sections 2.1 to 2.3): the phase unit
// u = P/12, the period of a clock reading, the three times of consensus q,
// and the epoch a relay uploads its descriptor for. Small pure functions;
// the authorities' schedule built on them lives elsewhere.
//
// A Period exists only for a P that meets section 2.1, so nothing here
// divides by zero. Times are Unix seconds; those past 2^64 saturate, so a
// period number read from the network cannot wrap around to the past.
// A plain value type; thread-safe.

#include <cstdint>

#include "core/error.hpp"

namespace nyx::document {

// T_setup: the circuit setup timeout (docs/protocol.md, "Lifetime"), which the
// clock skew must leave room for.
inline constexpr std::uint64_t kCircuitSetupSeconds = 10;

class Period {
 public:
  // kConfig naming the rule broken unless `seconds` is a multiple of 12 that
  // divides 86 400 (periods align with UTC days) and is at least 24.
  static Result<Period> from_seconds(std::uint64_t seconds);

  std::uint32_t seconds() const noexcept { return seconds_; }
  // u = P/12, the step of the period's timeline.
  std::uint64_t unit() const noexcept { return seconds_ / 12; }
  // epoch(t) = floor(t / P): the period (and onion epoch) a clock reading is in.
  std::uint64_t epoch(std::uint64_t unix_time) const noexcept { return unix_time / seconds_; }
  // T_p = p·P, when period p begins.
  std::uint64_t start(std::uint64_t p) const noexcept;

  // Consensus q is valid from T_q, fresh until T_{q+1}, valid until T_{q+2}.
  std::uint64_t valid_after(std::uint64_t q) const noexcept { return start(q); }
  std::uint64_t fresh_until(std::uint64_t q) const noexcept;
  std::uint64_t valid_until(std::uint64_t q) const noexcept;

  // target(now) = floor((now + 5u) / P) + 1: the epoch a relay uploads its
  // descriptor for, and the one an authority accepts, each on its own clock.
  std::uint64_t upload_target(std::uint64_t now) const noexcept;

  bool operator==(const Period&) const = default;

 private:
  explicit Period(std::uint32_t seconds) noexcept : seconds_(seconds) {}

  std::uint32_t seconds_;
};

// kConfig unless 0 ≤ skew ≤ u and 2·skew + T_setup ≤ P/2, so that at most two
// epochs' keys are in use at once outside an early rotation (section 2.1).
Status check_clock_skew(const Period& period, std::uint64_t skew);

}  // namespace nyx::document
