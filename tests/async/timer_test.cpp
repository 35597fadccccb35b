// async::Timer on simulated time (ManualTimers) and on real time
// (SteadyTimers): it behaves as an asio timer whose deadline is on the
// injected clock's axis.

#include "async/timer.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "async/manual_timers.hpp"
#include "support/run_until.hpp"

namespace nyx::async {
namespace {

using namespace std::chrono_literals;
using nyx::test::poll_ready;

// What one wait saw: its error and the clock when its handler ran.
struct Seen {
  std::optional<asio::error_code> ec;
  Nanos at{};
};

class ManualTimersTest : public ::testing::Test {
 protected:
  void wait(Timer& timer, Seen& seen) {
    timer.async_wait([this, &seen](const asio::error_code& ec) {
      seen.ec = ec;
      seen.at = clock_.now();
    });
  }

  asio::io_context io_;
  ManualClock clock_{1s};
  ManualTimers timers_{io_, clock_};
};

TEST_F(ManualTimersTest, NothingFiresBeforeItsDeadline) {
  Timer timer(io_.get_executor(), timers_);
  timer.expires_after(10ms);
  Seen seen;
  wait(timer, seen);
  poll_ready(io_);
  timers_.advance(10ms - 1ns);
  EXPECT_FALSE(seen.ec);
  timers_.advance(1ns);
  ASSERT_TRUE(seen.ec);
  EXPECT_FALSE(*seen.ec);
  EXPECT_EQ(seen.at, 1s + 10ms);
  EXPECT_EQ(timers_.armed(), 0u);
}

TEST_F(ManualTimersTest, FiresInDeadlineOrderWithTheClockAtEachDeadline) {
  std::vector<std::unique_ptr<Timer>> timers;
  std::vector<int> order;
  std::vector<Nanos> at;
  for (const auto delay : {30ms, 10ms, 20ms, 10ms}) {
    timers.push_back(std::make_unique<Timer>(io_.get_executor(), timers_));
    timers.back()->expires_after(delay);
    const int id = static_cast<int>(timers.size());
    timers.back()->async_wait([&, id](const asio::error_code& ec) {
      EXPECT_FALSE(ec);
      order.push_back(id);
      at.push_back(clock_.now());
    });
  }
  timers_.advance(1s);
  EXPECT_EQ(order, (std::vector<int>{2, 4, 3, 1}));  // equal deadlines: arming order
  EXPECT_EQ(at, (std::vector<Nanos>{1s + 10ms, 1s + 10ms, 1s + 20ms, 1s + 30ms}));
  EXPECT_EQ(clock_.now(), 2s);
}

// A handler that re-arms its timer inside the span fires again in it, as a
// periodic tick does.
TEST_F(ManualTimersTest, ATickReArmedByItsHandlerFiresOncePerPeriod) {
  Timer tick(io_.get_executor(), timers_);
  int fired = 0;
  std::function<void()> arm = [&] {
    tick.expires_after(10ms);
    tick.async_wait([&](const asio::error_code& ec) {
      if (!ec) {
        ++fired;
        arm();
      }
    });
  };
  arm();
  timers_.advance(100ms);
  EXPECT_EQ(fired, 10);
  EXPECT_EQ(timers_.next_deadline(), 1s + 110ms);
}

TEST_F(ManualTimersTest, CancelAbortsTheWaitAndKeepsTheExpiry) {
  Timer timer(io_.get_executor(), timers_);
  timer.expires_after(10ms);
  Seen cancelled;
  wait(timer, cancelled);
  timer.cancel();
  poll_ready(io_);
  ASSERT_TRUE(cancelled.ec);
  EXPECT_EQ(*cancelled.ec, asio::error::operation_aborted);
  Seen later;
  wait(timer, later);
  timers_.advance(10ms);
  ASSERT_TRUE(later.ec);
  EXPECT_FALSE(*later.ec);
}

TEST_F(ManualTimersTest, ReArmingAbortsTheWaitAndMovesTheDeadline) {
  Timer timer(io_.get_executor(), timers_);
  timer.expires_after(10ms);
  Seen first;
  wait(timer, first);
  timer.expires_after(50ms);
  poll_ready(io_);
  ASSERT_TRUE(first.ec);
  EXPECT_EQ(*first.ec, asio::error::operation_aborted);
  Seen second;
  wait(timer, second);
  timers_.advance(49ms);
  EXPECT_FALSE(second.ec);
  timers_.advance(1ms);
  ASSERT_TRUE(second.ec);
  EXPECT_FALSE(*second.ec);
  EXPECT_EQ(timers_.armed(), 0u);
}

TEST_F(ManualTimersTest, AWaitOnAnExpiredTimerCompletesAtOnce) {
  Timer timer(io_.get_executor(), timers_);
  timer.expires_at(clock_.now() - 1ms);
  Seen seen;
  wait(timer, seen);
  ASSERT_TRUE(nyx::test::run_until(
      io_, [&] { return seen.ec.has_value(); }, 10s));
  EXPECT_FALSE(*seen.ec);
  EXPECT_EQ(seen.at, 1s);  // the clock did not move
  EXPECT_EQ(timers_.armed(), 0u);
}

TEST_F(ManualTimersTest, DestroyingTheTimerAbortsItsWaitAndDisarmsIt) {
  auto timer = std::make_unique<Timer>(io_.get_executor(), timers_);
  timer->expires_after(10ms);
  Seen seen;
  wait(*timer, seen);
  EXPECT_EQ(timers_.armed(), 1u);
  timer.reset();
  EXPECT_EQ(timers_.armed(), 0u);
  timers_.advance(1s);
  ASSERT_TRUE(seen.ec);
  EXPECT_EQ(*seen.ec, asio::error::operation_aborted);
}

TEST_F(ManualTimersTest, AwaitableWaitEndsAtTheDeadline) {
  Timer timer(io_.get_executor(), timers_);
  timer.expires_after(1h);
  std::optional<asio::error_code> result;
  asio::co_spawn(
      io_, [&]() -> asio::awaitable<void> { result = co_await timer.wait(); },
      [](const std::exception_ptr& failure) { ASSERT_FALSE(failure); });
  poll_ready(io_);
  EXPECT_FALSE(result);
  timers_.advance(1h);
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result);
}

TEST(SteadyTimersTest, FiresOnTheSteadyClockAxis) {
  asio::io_context io;
  SteadyTimers& timers = SteadyTimers::instance();
  Timer timer(io.get_executor(), timers);
  const Nanos deadline = timers.clock().now() + 5ms;
  timer.expires_at(deadline);
  std::optional<asio::error_code> result;
  timer.async_wait([&](const asio::error_code& ec) { result = ec; });
  ASSERT_TRUE(nyx::test::run_until(
      io, [&] { return result.has_value(); }, 10s));
  EXPECT_FALSE(*result);
  EXPECT_GE(SteadyClock::instance().now(), deadline);
}

}  // namespace
}  // namespace nyx::async
