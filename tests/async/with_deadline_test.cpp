#include "async/with_deadline.hpp"

#include <chrono>
#include <optional>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include "async/async_event.hpp"
#include "async/manual_timers.hpp"
#include "support/run_until.hpp"

namespace nyx::async {
namespace {

using nyx::test::poll_ready;
using nyx::test::run_until;

using namespace std::chrono_literals;

asio::awaitable<int> answer_when(AsyncEvent& event) {
  const auto ec = co_await event.wait();
  co_return ec ? -1 : 42;
}

TEST(WithDeadlineTest, OperationInTimeGivesItsValue) {
  asio::io_context io;
  AsyncEvent ready(io.get_executor());
  std::optional<std::expected<int, asio::error_code>> result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> { result = co_await with_deadline(answer_when(ready), 10s); },
      [](const std::exception_ptr& failure) { ASSERT_FALSE(failure); });
  poll_ready(io);
  EXPECT_FALSE(result);
  ready.set();
  for (int i = 0; i < 100 && !result; ++i) {
    poll_ready(io);
  }
  ASSERT_TRUE(result);
  ASSERT_TRUE(*result);
  EXPECT_EQ(**result, 42);
}

TEST(WithDeadlineTest, LateOperationTimesOutAndIsCancelled) {
  asio::io_context io;
  AsyncEvent never(io.get_executor());
  std::optional<std::expected<int, asio::error_code>> result;
  bool finished = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await with_deadline(answer_when(never), 5ms);
        finished = true;
      },
      [](const std::exception_ptr& failure) { ASSERT_FALSE(failure); });
  ASSERT_TRUE(run_until(io, [&] { return finished; }));
  ASSERT_TRUE(result);
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error(), asio::error::timed_out);
  // Cancelled, not abandoned: nothing of the operation is left parked on the
  // event (with_deadline returns only once the operation has finished).
  EXPECT_EQ(poll_ready(io), 0u);
  EXPECT_TRUE(io.stopped());
}

// On simulated time the deadline passes when the test moves the clock, not
// before (and a ten-second deadline costs no real time).
TEST(WithDeadlineTest, SimulatedDeadlinePassesWhenTheClockIsMoved) {
  asio::io_context io;
  ManualClock clock;
  ManualTimers timers(io, clock);
  AsyncEvent never(io.get_executor());
  std::optional<std::expected<int, asio::error_code>> result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await with_deadline(answer_when(never), 10s, timers);
      },
      [](const std::exception_ptr& failure) { ASSERT_FALSE(failure); });
  poll_ready(io);
  timers.advance(10s - 1ns);
  EXPECT_FALSE(result);
  timers.advance(1ns);
  ASSERT_TRUE(result);
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error(), asio::error::timed_out);
}

// An operation that finishes first leaves no timer armed behind it.
TEST(WithDeadlineTest, SimulatedDeadlineIsDisarmedWhenTheOperationWins) {
  asio::io_context io;
  ManualClock clock;
  ManualTimers timers(io, clock);
  AsyncEvent ready(io.get_executor());
  std::optional<std::expected<int, asio::error_code>> result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await with_deadline(answer_when(ready), 10s, timers);
      },
      [](const std::exception_ptr& failure) { ASSERT_FALSE(failure); });
  poll_ready(io);
  EXPECT_EQ(timers.armed(), 1u);
  ready.set();
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
  ASSERT_TRUE(*result);
  EXPECT_EQ(**result, 42);
  EXPECT_EQ(timers.armed(), 0u);
}

TEST(WithDeadlineTest, VoidOperationInTime) {
  asio::io_context io;
  std::optional<std::expected<void, asio::error_code>> result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await with_deadline([]() -> asio::awaitable<void> { co_return; }(),
                                        std::chrono::seconds(10));
      },
      [](const std::exception_ptr& failure) { ASSERT_FALSE(failure); });
  for (int i = 0; i < 100 && !result; ++i) {
    poll_ready(io);
  }
  ASSERT_TRUE(result);
  EXPECT_TRUE(*result);
}

}  // namespace
}  // namespace nyx::async
