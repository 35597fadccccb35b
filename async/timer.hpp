#pragma once
// Timer: a one-shot timer whose deadline is on the injected Clock's axis
// (Nanos), fired by a TimerService: in real time (SteadyTimers) or when a
// test moves its ManualClock (ManualTimers). It reads as asio::steady_timer:
// expires_at / expires_after end the pending waits with operation_aborted,
// cancel() ends them and keeps the expiry, a wait on an expired timer
// completes at once, and several waits may be pending.
//
// Destroying the timer ends its waits with operation_aborted; a wait holds a
// small heap state shared with the timer (the asio timer and a count of
// changes), so a handler that runs after the timer is gone touches nothing of
// it. Owned by the component it wakes; single executor, not thread-safe.

#include <cstdint>
#include <memory>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/error.hpp>
#include <asio/error_code.hpp>
#include <asio/steady_timer.hpp>

#include "async/timer_service.hpp"
#include "core/clock.hpp"

namespace nyx::async {

class Timer {
 public:
  Timer(const asio::any_io_executor& executor, TimerService& service);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void expires_at(Nanos deadline);
  void expires_after(Nanos delay) { expires_at(service_.clock().now() + delay); }
  Nanos expiry() const noexcept { return expiry_; }
  // Ends the pending waits with operation_aborted; the expiry stays.
  void cancel();

  // handler(const asio::error_code&): no error when the deadline passed.
  template <class Handler>
  void async_wait(Handler handler) {
    state_->steady.async_wait([state = state_, start = state_->changes,
                               handler = std::move(handler)](const asio::error_code& ec) mutable {
      handler(state->outcome(start, ec));
    });
  }
  // The same as an awaitable; cancelling the awaiting operation (e.g. from
  // with_deadline) ends the wait with operation_aborted.
  asio::awaitable<asio::error_code> wait() { return wait_on(state_); }

 private:
  friend class TimerService;

  struct State {
    explicit State(const asio::any_io_executor& executor) : steady(executor) {}
    // A simulated expiry can end an asio wait only by aborting it; a wait
    // whose first change after it started was that expiry has succeeded.
    asio::error_code outcome(std::uint64_t start, const asio::error_code& ec) const noexcept {
      return ec == asio::error::operation_aborted && fired_at == start + 1 ? asio::error_code{}
                                                                           : ec;
    }
    asio::steady_timer steady;
    std::uint64_t changes = 0;   // re-arms, cancels and simulated expiries
    std::uint64_t fired_at = 0;  // the change that was the last simulated expiry
  };

  static asio::awaitable<asio::error_code> wait_on(std::shared_ptr<State> state);
  void fire();

  TimerService& service_;
  std::shared_ptr<State> state_;
  Nanos expiry_{};
};

}  // namespace nyx::async
