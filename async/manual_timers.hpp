#pragma once
// ManualTimers: simulated time for tests. Timers on this service fire only
// when the test moves the ManualClock through advance(), never on their own,
// so a test of a retransmission or a keepalive timeout runs in microseconds
// and the same way every time (Envoy's SimulatedTimeSystem).
//
// advance(by) fires the timers whose deadlines it passes in deadline order
// (in arming order for equal deadlines), the clock standing at each deadline
// as that timer fires, and runs the io_context's ready handlers after each,
// so a handler that re-arms its timer within the span fires again in it.
//
// Owned by the test, and declared before the components it is handed to: a
// timer disarms itself on its service when destroyed. Its timers must run on
// `io`, and every call is made on the thread that runs `io`. Not
// thread-safe.

#include <cstddef>
#include <map>
#include <optional>

#include <asio/io_context.hpp>

#include "async/timer.hpp"
#include "async/timer_service.hpp"
#include "core/clock.hpp"

namespace nyx::async {

class ManualTimers final : public TimerService {
 public:
  ManualTimers(asio::io_context& io, ManualClock& clock) : io_(io), clock_(clock) {}
  ManualTimers(const ManualTimers&) = delete;
  ManualTimers& operator=(const ManualTimers&) = delete;

  const Clock& clock() const noexcept override { return clock_; }

  // Moves the clock forward by `by` (not negative), firing what falls due.
  void advance(Nanos by);
  // The earliest deadline of an armed timer that has not fired yet.
  std::optional<Nanos> next_deadline() const;
  std::size_t armed() const noexcept { return armed_.size(); }

 private:
  void arm(Timer& timer, Nanos deadline) override;
  void disarm(Timer& timer) noexcept override;
  void run_ready();

  asio::io_context& io_;
  ManualClock& clock_;
  std::multimap<Nanos, Timer*> armed_;  // equal deadlines keep their arming order
};

}  // namespace nyx::async
