#include "support/run_until.hpp"

#include <algorithm>

namespace nyx::test {
namespace {

using namespace std::chrono_literals;

// How long real I/O may stay quiet before simulated time moves on: loopback
// delivers within the sending syscall, so this is a margin, not a wait.
constexpr auto kQuiet = 1ms;
// A simulated run that keeps real work going this long is stuck.
constexpr auto kRealLimit = 120s;

// Runs one handler, waiting at most `wait` of real time for it.
std::size_t run_one(asio::io_context& io, std::chrono::milliseconds wait) {
  io.restart();
  return io.run_one_for(wait);
}

// One step towards `end` (simulated): what is ready, else what becomes ready
// within kQuiet, else the clock to the next deadline (at most `end`). False
// once the clock stands at `end` and nothing is left to run.
bool step(asio::io_context& io, async::ManualTimers& timers, Nanos end) {
  if (poll_ready(io) > 0 || run_one(io, kQuiet) > 0) {
    return true;
  }
  const Nanos now = timers.clock().now();
  if (now >= end) {
    return false;
  }
  timers.advance(std::min(end, timers.next_deadline().value_or(end)) - now);
  return true;
}

}  // namespace

std::size_t poll_ready(asio::io_context& io) {
  io.restart();
  return io.poll();
}

bool run_until(asio::io_context& io, const std::function<bool()>& done, Nanos limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    run_one(io, 5ms);
  }
  return true;
}

bool run_until(asio::io_context& io, async::ManualTimers& timers, const std::function<bool()>& done,
               Nanos limit) {
  const Nanos end = timers.clock().now() + limit;
  const auto real_deadline = std::chrono::steady_clock::now() + kRealLimit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > real_deadline || !step(io, timers, end)) {
      return false;
    }
  }
  return true;
}

void run_for(asio::io_context& io, async::ManualTimers& timers, Nanos span) {
  const Nanos end = timers.clock().now() + span;
  const auto real_deadline = std::chrono::steady_clock::now() + kRealLimit;
  while (std::chrono::steady_clock::now() < real_deadline && step(io, timers, end)) {
  }
}

}  // namespace nyx::test
