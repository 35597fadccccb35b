#include "async/deferred_callback.hpp"

#include <memory>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <gtest/gtest.h>

#include "support/run_until.hpp"

namespace nyx::async {
namespace {

using nyx::test::poll_ready;

TEST(DeferredCallbackTest, ManySchedulesRunOncePerTurn) {
  asio::io_context io;
  int runs = 0;
  DeferredCallback callback(io.get_executor(), [&runs] { ++runs; });
  for (int i = 0; i < 100; ++i) {
    callback.schedule();
  }
  EXPECT_TRUE(callback.scheduled());
  EXPECT_EQ(runs, 0);  // never inline
  poll_ready(io);
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(callback.scheduled());
  callback.schedule();
  callback.schedule();
  poll_ready(io);
  EXPECT_EQ(runs, 2);
  poll_ready(io);
  EXPECT_EQ(runs, 2);
}

TEST(DeferredCallbackTest, CallbackMayScheduleItselfForTheNextTurn) {
  asio::io_context io;
  int runs = 0;
  std::unique_ptr<DeferredCallback> callback;
  callback = std::make_unique<DeferredCallback>(io.get_executor(), [&] {
    if (++runs < 3) {
      callback->schedule();
    }
  });
  callback->schedule();
  EXPECT_EQ(io.run_one(), 1u);
  EXPECT_EQ(runs, 1);
  poll_ready(io);
  EXPECT_EQ(runs, 3);
}

TEST(DeferredCallbackTest, CancelledBeforeItsTurnNeverRuns) {
  asio::io_context io;
  int runs = 0;
  DeferredCallback callback(io.get_executor(), [&runs] { ++runs; });
  callback.schedule();
  callback.cancel();
  poll_ready(io);
  EXPECT_EQ(runs, 0);
  // Scheduling again after a cancel runs once, not twice (the stale handler
  // of the cancelled turn stays inert).
  callback.schedule();
  callback.cancel();
  callback.schedule();
  poll_ready(io);
  EXPECT_EQ(runs, 1);
}

// The use-after-free the hand-written "post once per turn" guarded against:
// the owner dies in an earlier handler of the same turn as its flush.
TEST(DeferredCallbackTest, OwnerDestroyedEarlierInTheSameTurnNeverRuns) {
  struct Owner {
    Owner(asio::io_context& io, int& runs)
        : runs_(&runs), flush(io.get_executor(), [this] { ++*runs_; }) {}
    int* runs_;
    DeferredCallback flush;
  };
  asio::io_context io;
  int runs = 0;
  auto owner = std::make_unique<Owner>(io, runs);
  asio::post(io, [&owner] { owner.reset(); });  // queued before the flush
  owner->flush.schedule();
  poll_ready(io);
  EXPECT_EQ(owner, nullptr);
  EXPECT_EQ(runs, 0);
}

TEST(DeferredCallbackTest, DestroyedWhileScheduledLeavesNothingBehind) {
  int runs = 0;
  {
    asio::io_context io;
    {
      DeferredCallback callback(io.get_executor(), [&runs] { ++runs; });
      callback.schedule();
    }
    poll_ready(io);
  }
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace nyx::async
