#pragma once
// TimerService: decides when an async::Timer fires. Deadlines are on the
// axis of the injected Clock (Nanos), so logic that reads time from a Clock
// also waits on it: the daemon hands its components SteadyTimers, tests hand
// them ManualTimers (async/manual_timers.hpp) and move time instead of
// sleeping. A component takes the service from its constructor, next to its
// Clock, and must be given the service whose clock() is that Clock.
//
// SteadyTimers is stateless and thread-safe; see ManualTimers for the other.

#include <asio/steady_timer.hpp>

#include "core/clock.hpp"

namespace nyx::async {

class Timer;

class TimerService {
 public:
  virtual ~TimerService() = default;
  // The clock whose axis the deadlines are on.
  virtual const Clock& clock() const noexcept = 0;

 protected:
  // What a service may do to a timer: set its underlying asio timer, and
  // fire it early (a simulated expiry: its waits complete without error).
  static asio::steady_timer& steady_timer_of(Timer& timer) noexcept;
  static void fire(Timer& timer);

 private:
  friend class Timer;
  // Arms `timer` for `deadline`; its pending waits were ended by the caller's
  // expires_at (as asio's timers end them).
  virtual void arm(Timer& timer, Nanos deadline) = 0;
  // Forgets `timer` (it is re-armed or destroyed).
  virtual void disarm(Timer& timer) noexcept = 0;
};

// Real time: a Timer is an asio::steady_timer. SteadyClock's axis is
// steady_clock's, so a deadline converts exactly.
class SteadyTimers final : public TimerService {
 public:
  const Clock& clock() const noexcept override { return SteadyClock::instance(); }
  // The process-wide instance (the service holds no state).
  static SteadyTimers& instance() noexcept;

 private:
  void arm(Timer& timer, Nanos deadline) override;
  void disarm(Timer& /*timer*/) noexcept override {}
};

}  // namespace nyx::async
