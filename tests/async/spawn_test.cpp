#include "async/spawn.hpp"

#include <optional>
#include <stdexcept>

#include <asio/io_context.hpp>
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

}  // namespace
}  // namespace nyx::async
