// CellShard::call across threads, as the control thread uses it: callers on
// io_contexts of their own post work to a running shard and co_await the
// answer, which must run on the shard's thread and resume them on theirs;
// and a call made or queued while the shard stops is refused at once, never
// left waiting. A relay-only shard on 127.0.0.1 (no SOCKS port, no
// directory). Built into nyx_daemon_threaded_tests, which the tsan preset runs.

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/cell_shard.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/node_config.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

constexpr auto kLongTimeout = std::chrono::seconds(60);  // longer than the test may take

class CellShardCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto data_dir = DataDir::open(dir_.path() / "data");
    ASSERT_TRUE(data_dir) << data_dir.error().to_string();
    data_dir_.emplace(std::move(*data_dir));
    config_.node.roles = NodeRoles{.relay = true};
    // A node of the v1 directory (the file is the node's to read, not the
    // shard's): one onion key, of epoch 0, not the managed keys of a relay
    // that fetches the consensus.
    config_.directory.file = "directory.bin";
    config_.transport.udp_listen = HostPort{"127.0.0.1", 0};
    auto shard =
        CellShard::create(config_, *data_dir_, SteadyClock::instance(), SystemClock::instance(),
                          async::SteadyTimers::instance(), registry_, nullptr);
    ASSERT_TRUE(shard) << shard.error().to_string();
    shard_ = std::move(*shard);
  }

  // The id of the shard's thread, asked of the running shard.
  std::thread::id shard_thread() {
    std::promise<std::thread::id> id;
    shard_->post([&id] { id.set_value(std::this_thread::get_id()); });
    return id.get_future().get();
  }

  // The graceful end, as the node's shutdown drives it.
  void shut_down() {
    std::promise<void> done;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    shard_->shut_down(deadline, [&done] { done.set_value(); });
    EXPECT_EQ(done.get_future().wait_until(deadline), std::future_status::ready);
    shard_->join(deadline);
  }

  test::TempDir dir_;
  NodeConfig config_;
  std::optional<DataDir> data_dir_;
  metrics::Registry registry_;
  std::unique_ptr<CellShard> shard_;
};

TEST_F(CellShardCallTest, CallersOnSeveralThreadsGetAnswersFromTheShardThread) {
  constexpr int kThreads = 4;
  constexpr int kCoroutines = 8;  // per thread, awaiting at the same time
  constexpr int kCalls = 25;      // per coroutine, one after the other
  shard_->start();
  const std::thread::id shard_id = shard_thread();
  int runs = 0;  // touched on the shard's thread only: TSan says so if not
  std::atomic<int> answered{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < kThreads; ++t) {
    callers.emplace_back([&, t] {
      asio::io_context io;
      const std::thread::id own = std::this_thread::get_id();
      for (int c = 0; c < kCoroutines; ++c) {
        auto body = [&, c]() -> asio::awaitable<void> {
          for (int i = 0; i < kCalls; ++i) {
            const int token = (t * kCoroutines + c) * kCalls + i;
            auto answer = co_await shard_->call(
                [&runs, shard_id, token] {
                  EXPECT_EQ(std::this_thread::get_id(), shard_id);
                  ++runs;
                  return token * 2;
                },
                kLongTimeout);
            EXPECT_EQ(std::this_thread::get_id(), own);  // resumed on the caller's thread
            if (!answer) {
              ADD_FAILURE() << answer.error().to_string();
              co_return;
            }
            EXPECT_EQ(*answer, token * 2);
            answered.fetch_add(1, std::memory_order_relaxed);
          }
        };
        asio::co_spawn(io, body, [](std::exception_ptr e) { EXPECT_FALSE(e); });
      }
      io.run();
    });
  }
  for (auto& caller : callers) {
    caller.join();
  }
  EXPECT_EQ(answered.load(), kThreads * kCoroutines * kCalls);
  shut_down();
  EXPECT_EQ(runs, kThreads * kCoroutines * kCalls);  // the join orders the read after the writes
}

TEST_F(CellShardCallTest, ACallDuringStopIsRefusedInsteadOfLeftWaiting) {
  shard_->start();
  // Hold the shard's thread, so the call below stays queued behind it.
  std::promise<void> release;
  std::promise<void> holding;
  shard_->post([&] {
    holding.set_value();
    release.get_future().wait();
  });
  holding.get_future().wait();

  asio::io_context io;
  bool ran = false;  // would be written on the shard's thread
  std::optional<Result<int>> queued;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        queued = co_await shard_->call(
            [&ran] {
              ran = true;
              return 1;
            },
            kLongTimeout);
      },
      [](std::exception_ptr e) { EXPECT_FALSE(e); });
  io.poll();  // runs the caller up to its wait: the call is posted and queued
  EXPECT_FALSE(queued.has_value());

  shard_->stop_now();  // from another thread than the caller's, as the node's drain timer
  io.restart();
  io.run_for(std::chrono::seconds(20));  // far less than kLongTimeout
  // Only now is the shard's thread let go: the refusal did not wait for it.
  release.set_value();
  shard_->join(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE(queued.has_value()) << "the queued call was left waiting";
  ASSERT_FALSE(*queued);
  EXPECT_EQ(queued->error().category, ErrorCategory::kClosed);
  EXPECT_FALSE(ran);  // a refused call never runs

  // A call after the stop is refused without waiting for anything.
  std::optional<Result<int>> late;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        late = co_await shard_->call([] { return 2; }, kLongTimeout);
      },
      [](std::exception_ptr e) { EXPECT_FALSE(e); });
  io.restart();
  io.run_for(std::chrono::seconds(20));
  ASSERT_TRUE(late.has_value());
  ASSERT_FALSE(*late);
  EXPECT_EQ(late->error().category, ErrorCategory::kClosed);
}

}  // namespace
}  // namespace nyx::daemon
