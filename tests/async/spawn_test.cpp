#include "async/spawn.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>

#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace nyx::async {
namespace {

TEST(SpawnTest, ThrowingTaskReportsItsFailure) {
  asio::io_context io;
  std::optional<Error> failure;
  spawn(
      io.get_executor(),
      []() -> asio::awaitable<void> {
        throw std::runtime_error("disk on fire");
        co_return;
      }(),
      "upkeep", [&failure](const Error& error) { failure = error; });
  io.run();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->category, ErrorCategory::kInternal);
  EXPECT_EQ(failure->message, "upkeep failed: disk on fire");
}

TEST(SpawnTest, TaskThatSucceedsReportsNothing) {
  asio::io_context io;
  int failures = 0;
  bool ran = false;
  spawn(
      io.get_executor(),
      [](bool& flag) -> asio::awaitable<void> {
        flag = true;
        co_return;
      }(ran),
      "quiet", [&failures](const Error&) { ++failures; });
  io.run();
  EXPECT_TRUE(ran);
  EXPECT_EQ(failures, 0);
}

// The slot reaches the operation the task waits on: the owner's signal ends
// a wait that would otherwise never end, and the task's failure is reported.
TEST(SpawnTest, ACancellationSlotEndsTheOperationTheTaskWaitsOn) {
  asio::io_context io;
  asio::cancellation_signal cancel;
  std::optional<Error> failure;
  spawn(
      io.get_executor(),
      []() -> asio::awaitable<void> {
        asio::steady_timer forever(co_await asio::this_coro::executor, std::chrono::hours(1));
        co_await forever.async_wait(asio::use_awaitable);
      }(),
      "waiter", cancel.slot(), [&failure](const Error& error) { failure = error; });
  io.poll();
  EXPECT_FALSE(failure);
  cancel.emit(asio::cancellation_type::terminal);
  io.run();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->message.rfind("waiter failed: ", 0), 0u) << failure->message;
}

}  // namespace
}  // namespace nyx::async
