#pragma once
// with_deadline(op, timeout, timers): runs an awaitable with a time limit
// measured by `timers` (real time unless a test injects simulated time). It gives
// the operation's value when it finishes first; when the timeout passes
// first the operation is cancelled (through its cancellation slot, so socket
// operations, timers and AsyncEvent waits stop at once) and the result is
// asio::error::timed_out. Either way it returns only after both the
// operation and the timer have finished, so nothing the operation uses may
// be destroyed under it.
//
// A free function; it runs on the executor of the awaiting coroutine.

#include <expected>
#include <type_traits>
#include <utility>
#include <variant>

#include <asio/awaitable.hpp>
#include <asio/error.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/this_coro.hpp>

#include "async/timer.hpp"
#include "async/timer_service.hpp"
#include "core/clock.hpp"

namespace nyx::async {

template <class T>
asio::awaitable<std::expected<T, asio::error_code>> with_deadline(
    asio::awaitable<T> op, Nanos timeout, TimerService& timers = SteadyTimers::instance()) {
  using asio::experimental::awaitable_operators::operator||;
  Timer timer(co_await asio::this_coro::executor, timers);
  timer.expires_after(timeout);
  auto outcome = co_await (std::move(op) || timer.wait());
  if (outcome.index() == 1) {
    // The timer's own error is set only when the whole race was cancelled.
    const asio::error_code ec = std::get<1>(outcome);
    co_return std::unexpected(ec ? ec : asio::error::timed_out);
  }
  if constexpr (std::is_void_v<T>) {
    co_return std::expected<void, asio::error_code>{};
  } else {
    co_return std::move(std::get<0>(outcome));
  }
}

}  // namespace nyx::async
