#pragma once
// Injected time. Logic never calls now() itself: it is handed a Clock, so
// tests move time with ManualClock instead of sleeping.
//
// Time is plain nanoseconds on a monotonic axis (std::chrono::nanoseconds
// since an arbitrary epoch), which keeps hot-path arithmetic on integers.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace nyx {

using Nanos = std::chrono::nanoseconds;

// A monotonic time source. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos now() const noexcept = 0;
};

// CLOCK_MONOTONIC through std::chrono::steady_clock (~27 ns a read on the VMs
// this runs on, so hot paths amortise their reads).
class SteadyClock final : public Clock {
 public:
  Nanos now() const noexcept override {
    return std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now().time_since_epoch());
  }
  // The process-wide instance, for code that has no clock injected by a test.
  static SteadyClock& instance() noexcept {
    static SteadyClock clock;
    return clock;
  }
};

// A clock that moves only when told; thread-safe so threaded tests can use it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Nanos start = Nanos{0}) noexcept : now_(start.count()) {}
  Nanos now() const noexcept override { return Nanos{now_.load(std::memory_order_acquire)}; }
  void advance(Nanos by) noexcept { now_.fetch_add(by.count(), std::memory_order_acq_rel); }
  void set(Nanos to) noexcept { now_.store(to.count(), std::memory_order_release); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace nyx
