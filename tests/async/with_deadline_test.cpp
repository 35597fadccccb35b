#include "async/with_deadline.hpp"

#include <chrono>
#include <optional>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include "async/async_event.hpp"
#include "async/support/poll_ready.hpp"

namespace nyx::async {
namespace {

using testing::poll_ready;

using namespace std::chrono_literals;

asio::awaitable<int> answer_when(AsyncEvent& event) {
  const auto ec = co_await event.wait();
  co_return ec ? -1 : 42;
}

// Runs the io_context until `done`, with a bound instead of a hang.
void run_until(asio::io_context& io, const bool& done) {
  for (int i = 0; i < 1000 && !done; ++i) {
    io.run_one_for(std::chrono::milliseconds(100));
  }
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
  run_until(io, finished);
  ASSERT_TRUE(result);
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error(), asio::error::timed_out);
  // Cancelled, not abandoned: nothing of the operation is left parked on the
  // event (with_deadline returns only once the operation has finished).
  EXPECT_EQ(poll_ready(io), 0u);
  EXPECT_TRUE(io.stopped());
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
