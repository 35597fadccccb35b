#pragma once
// Injected time. Logic never calls now() itself: it is handed a Clock, so
// tests move time with ManualClock instead of sleeping.
//
// Time is plain nanoseconds on an axis (std::chrono::nanoseconds since an
// arbitrary epoch, or since 1970 for SystemClock), which keeps hot-path
// arithmetic on integers.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace nyx {

using Nanos = std::chrono::nanoseconds;

// A time source; monotonic unless it says otherwise. Implementations are
// thread-safe.
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

// Unix time (CLOCK_REALTIME through std::chrono::system_clock): what the
// directory's periods and onion epochs are counted in (proposal 0002,
// section 2.2). Not monotonic: it jumps when the host's clock is set, so its
// readers hand timers durations only and look at it again after each wait.
class SystemClock final : public Clock {
 public:
  Nanos now() const noexcept override {
    return std::chrono::duration_cast<Nanos>(std::chrono::system_clock::now().time_since_epoch());
  }
  static SystemClock& instance() noexcept {
    static SystemClock clock;
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
