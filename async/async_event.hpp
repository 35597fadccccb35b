#pragma once
// AsyncEvent: an event coroutines can co_await. set() wakes every waiter and
// lets later waits through until reset(); destroying the event wakes its
// waiters with operation_aborted, so a waiter never hangs on, nor touches, an
// event that is gone. A wait also ends (operation_aborted) when the awaiting
// operation is cancelled, e.g. by with_deadline().
//
// Owned by whoever signals it; single executor, not thread-safe. The waiters
// share a small heap state with it (a timer that never expires on its own,
// and counters), which is what lets them outlive it safely.

#include <cstdint>
#include <memory>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/error_code.hpp>
#include <asio/steady_timer.hpp>

namespace nyx::async {

class AsyncEvent {
 public:
  explicit AsyncEvent(const asio::any_io_executor& executor);
  ~AsyncEvent();
  AsyncEvent(const AsyncEvent&) = delete;
  AsyncEvent& operator=(const AsyncEvent&) = delete;

  // No error once the event is set; operation_aborted when the event was
  // destroyed or the wait cancelled first.
  asio::awaitable<asio::error_code> wait();

  void set();
  void reset() noexcept { state_->is_set = false; }
  bool is_set() const noexcept { return state_->is_set; }

 private:
  struct State {
    explicit State(const asio::any_io_executor& executor);
    asio::steady_timer wakeup;  // waiters park on it; set() cancels it
    std::uint64_t sets = 0;     // tells a woken waiter it was set, not cancelled
    bool is_set = false;
    bool destroyed = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace nyx::async
