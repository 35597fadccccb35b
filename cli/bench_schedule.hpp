#pragma once
// OpenLoopSchedule: when each request of an open-loop load is due. Request n
// is due at start + n / rate whatever happened to earlier ones, and `nyxctl
// bench` measures its latency from that due time, not from when a stream got
// round to sending it: a stall then shows as latency of every request it
// delayed, instead of as fewer requests (no coordinated omission).
//
// Owned by one load thread (each thread gets rate / threads); not
// thread-safe. The clock is injected.
#include <cstdint>
#include <optional>

#include "core/clock.hpp"

namespace nyx::cli {

class OpenLoopSchedule {
 public:
  // `rate` requests per second from `start` until `end` (exclusive).
  OpenLoopSchedule(Nanos start, Nanos end, double rate) noexcept;

  struct Slot {
    Nanos due;   // when the request should be sent; latency counts from here
    Nanos wait;  // how long to wait from now; zero when already late
  };
  // The next request's slot, or nullopt when the next due time is past the end.
  std::optional<Slot> take(const Clock& clock) noexcept;

  std::uint64_t taken() const noexcept { return taken_; }

 private:
  Nanos start_;
  Nanos end_;
  double interval_ns_;
  std::uint64_t taken_ = 0;
};

}  // namespace nyx::cli
