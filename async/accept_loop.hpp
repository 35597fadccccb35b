#pragma once
// accept_loop(acceptor, timers, backoff, stopped, on_accept): the accept loop
// of a listening server. It accepts until stopped() is true, handing each
// accepted socket to on_accept(socket) (which admits it: spawns its handler,
// or closes it when the server is full). When an accept fails (out of
// descriptors, EMFILE, or similar) it waits `backoff` on a Timer of `timers`
// before accepting again: retrying at once would spin on the same error.
//
// stopped() is checked before each accept and after each completes, so a
// server stops the loop by setting its flag and closing the acceptor (the
// pending accept ends with operation_aborted). Works with any asio acceptor
// (TCP or Unix). The caller keeps the acceptor and `timers` alive until the
// loop returns; single executor, the acceptor's.

#include <utility>

#include <asio/awaitable.hpp>

#include "async/timer.hpp"
#include "async/timer_service.hpp"
#include "async/use_result.hpp"
#include "core/clock.hpp"

namespace nyx::async {

template <class Acceptor, class Stopped, class OnAccept>
asio::awaitable<void> accept_loop(Acceptor& acceptor, TimerService& timers, Nanos backoff,
                                  Stopped stopped, OnAccept on_accept) {
  Timer pause(acceptor.get_executor(), timers);
  while (!stopped()) {
    auto [ec, socket] = co_await acceptor.async_accept(use_result);
    if (stopped()) {
      break;
    }
    if (ec) {
      pause.expires_after(backoff);
      // Aborted or expired, the loop goes on: stopped() decides when it ends.
      [[maybe_unused]] const asio::error_code waited = co_await pause.wait();
      continue;
    }
    on_accept(std::move(socket));
  }
}

}  // namespace nyx::async
