#include "async/gate.hpp"

#include <optional>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "support/run_until.hpp"

namespace nyx::async {
namespace {

using nyx::test::poll_ready;

// Starts wait_closed() and reports through `done` when it completes.
void watch_closed(asio::io_context& io, Gate& gate, bool& done) {
  asio::co_spawn(
      io,
      [&gate, &done]() -> asio::awaitable<void> {
        co_await gate.wait_closed();
        done = true;
      },
      [](const std::exception_ptr& failure) { ASSERT_FALSE(failure); });
}

TEST(GateTest, RefusesEntriesOnceClosed) {
  asio::io_context io;
  Gate gate(io.get_executor());
  auto first = gate.enter();
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->gate_closed());
  EXPECT_EQ(gate.holders(), 1u);
  gate.close();
  EXPECT_TRUE(gate.closed());
  EXPECT_FALSE(gate.enter());
  EXPECT_TRUE(first->gate_closed());
  EXPECT_EQ(gate.holders(), 1u);  // the holder inside is not thrown out
}

TEST(GateTest, WaitClosedCompletesOnlyAfterTheLastHolderLeaves) {
  asio::io_context io;
  Gate gate(io.get_executor());
  auto a = gate.enter();
  auto b = gate.enter();
  bool done = false;
  watch_closed(io, gate, done);
  gate.close();
  poll_ready(io);
  EXPECT_FALSE(done);
  a.reset();
  poll_ready(io);
  EXPECT_FALSE(done);
  b.reset();
  poll_ready(io);
  EXPECT_TRUE(done);
  EXPECT_EQ(gate.holders(), 0u);
}

TEST(GateTest, HoldersMayLeaveInAnyOrder) {
  for (const auto& order : {std::vector{0, 1, 2}, {2, 1, 0}, {1, 2, 0}}) {
    asio::io_context io;
    Gate gate(io.get_executor());
    std::vector<std::optional<Gate::Holder>> holders;
    for (int i = 0; i < 3; ++i) {
      holders.push_back(gate.enter());
    }
    bool done = false;
    watch_closed(io, gate, done);
    gate.close();
    for (std::size_t left = 0; left < order.size(); ++left) {
      poll_ready(io);
      EXPECT_FALSE(done) << "completed with " << order.size() - left << " holders inside";
      holders[static_cast<std::size_t>(order[left])].reset();
    }
    poll_ready(io);
    EXPECT_TRUE(done);
  }
}

TEST(GateTest, ClosedEmptyGateCompletesAtOnce) {
  asio::io_context io;
  Gate gate(io.get_executor());
  gate.close();
  bool done = false;
  watch_closed(io, gate, done);
  poll_ready(io);
  EXPECT_TRUE(done);
}

TEST(GateTest, HolderOutlivingItsGateSeesItClosed) {
  asio::io_context io;
  std::optional<Gate::Holder> late;
  {
    Gate gate(io.get_executor());
    late = gate.enter();
  }
  ASSERT_TRUE(late);
  EXPECT_TRUE(late->gate_closed());
  late.reset();  // leaving a destroyed gate is safe (ASan checks)
}

TEST(GateTest, MovedHolderLeavesOnce) {
  asio::io_context io;
  Gate gate(io.get_executor());
  auto a = gate.enter();
  Gate::Holder moved = std::move(*a);
  a.reset();
  EXPECT_EQ(gate.holders(), 1u);
  { Gate::Holder gone = std::move(moved); }
  EXPECT_EQ(gate.holders(), 0u);
}

}  // namespace
}  // namespace nyx::async
