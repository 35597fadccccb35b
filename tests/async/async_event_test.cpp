#include "async/async_event.hpp"

#include <memory>

#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "support/run_until.hpp"

namespace nyx::async {
namespace {

using nyx::test::poll_ready;

struct Waiter {
  bool done = false;
  asio::error_code ec;
};

void start_wait(asio::io_context& io, AsyncEvent& event, Waiter& waiter) {
  asio::co_spawn(
      io,
      [&event, &waiter]() -> asio::awaitable<void> {
        waiter.ec = co_await event.wait();
        waiter.done = true;
      },
      [](const std::exception_ptr& failure) { ASSERT_FALSE(failure); });
}

TEST(AsyncEventTest, SetWakesEveryWaiter) {
  asio::io_context io;
  AsyncEvent event(io.get_executor());
  Waiter a;
  Waiter b;
  start_wait(io, event, a);
  start_wait(io, event, b);
  poll_ready(io);
  EXPECT_FALSE(a.done);
  EXPECT_FALSE(b.done);
  event.set();
  poll_ready(io);
  EXPECT_TRUE(a.done);
  EXPECT_TRUE(b.done);
  EXPECT_FALSE(a.ec);
  EXPECT_FALSE(b.ec);
}

TEST(AsyncEventTest, SetEventLetsWaitsThroughUntilReset) {
  asio::io_context io;
  AsyncEvent event(io.get_executor());
  event.set();
  Waiter through;
  start_wait(io, event, through);
  poll_ready(io);
  EXPECT_TRUE(through.done);
  EXPECT_FALSE(through.ec);

  event.reset();
  EXPECT_FALSE(event.is_set());
  Waiter parked;
  start_wait(io, event, parked);
  poll_ready(io);
  EXPECT_FALSE(parked.done);
  event.set();
  poll_ready(io);
  EXPECT_TRUE(parked.done);
  EXPECT_FALSE(parked.ec);
}

TEST(AsyncEventTest, WaiterOfADestroyedEventResumesWithAnError) {
  asio::io_context io;
  auto event = std::make_unique<AsyncEvent>(io.get_executor());
  Waiter waiter;
  start_wait(io, *event, waiter);
  poll_ready(io);
  ASSERT_FALSE(waiter.done);
  event.reset();
  for (int i = 0; i < 10 && !waiter.done; ++i) {
    poll_ready(io);
  }
  EXPECT_TRUE(waiter.done);
  EXPECT_EQ(waiter.ec, asio::error::operation_aborted);
  EXPECT_TRUE(io.stopped());  // nothing left parked
}

}  // namespace
}  // namespace nyx::async
