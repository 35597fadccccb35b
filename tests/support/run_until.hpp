#pragma once
// Driving an io_context in tests, the one copy every layer's tests use:
// run it until a condition holds or a limit passes (a missed limit is a test
// failure, never a sleep for correctness), in real time or, with
// async::ManualTimers, in simulated time.
//
// Simulated time next to real sockets: what is ready (sockets on loopback,
// posted handlers) runs first, in real time; only when nothing has been
// ready for a moment does the simulated clock jump to the next timer's
// deadline. So a keepalive or a retransmission timeout costs a few
// milliseconds of real time, however long its simulated interval.

#include <chrono>
#include <cstddef>
#include <functional>

#include <asio/io_context.hpp>

#include "async/manual_timers.hpp"
#include "core/clock.hpp"

namespace nyx::test {

// Runs every handler that is ready now, without waiting. A stopped
// io_context runs nothing until restarted, so this restarts it first.
std::size_t poll_ready(asio::io_context& io);

// Real time: runs `io` until done() or `limit` passed (false then).
bool run_until(asio::io_context& io, const std::function<bool()>& done,
               Nanos limit = std::chrono::seconds(60));

// Simulated time: runs `io` until done(), moving `timers`' clock when
// nothing is ready; false when `limit` of simulated time passed first.
bool run_until(asio::io_context& io, async::ManualTimers& timers, const std::function<bool()>& done,
               Nanos limit = std::chrono::seconds(60));

// Simulated time: moves `timers`' clock by `span`, running on the way every
// timer that falls due and everything its handlers set off.
void run_for(asio::io_context& io, async::ManualTimers& timers, Nanos span);

}  // namespace nyx::test
