// Logging from many threads while the logger is replaced underneath them:
// every line arrives whole, exactly once, in one of the two files.

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/log.hpp"
#include "support/temp_dir.hpp"

namespace nyx::log {
namespace {

constexpr std::size_t kThreads = 4;
constexpr std::size_t kLines = 200;

TEST(LogThreaded, ConcurrentLinesSurviveReinit) {
  const test::TempDir dir;
  const std::filesystem::path files[] = {dir.path() / "a.log", dir.path() / "b.log"};
  ASSERT_TRUE(init(LogOptions{.level = Level::kInfo, .file = files[0]}));

  std::atomic<std::size_t> running{kThreads};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &running] {
      for (std::size_t i = 0; i < kLines; ++i) {
        info("thread {} line {}", t, i);
      }
      running.fetch_sub(1);
    });
  }
  for (int swap = 1; running.load() > 0; ++swap) {
    ASSERT_TRUE(init(LogOptions{.level = Level::kInfo, .file = files[swap % 2]}));
  }
  for (auto& thread : threads) {
    thread.join();
  }
  ASSERT_TRUE(init(LogOptions{}));  // releases and flushes the file loggers

  // "<timestamp> [info] thread <t> line <i>" and nothing more.
  std::vector<std::vector<int>> seen(kThreads, std::vector<int>(kLines, 0));
  for (const auto& file : files) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      std::size_t t = 0;
      std::size_t i = 0;
      int consumed = 0;
      ASSERT_EQ(std::sscanf(line.c_str(), "%*s [info] thread %zu line %zu%n", &t, &i, &consumed), 2)
          << line;
      ASSERT_EQ(static_cast<std::size_t>(consumed), line.size()) << line;
      ++seen.at(t).at(i);
    }
  }
  for (std::size_t t = 0; t < kThreads; ++t) {
    for (std::size_t i = 0; i < kLines; ++i) {
      EXPECT_EQ(seen[t][i], 1) << "thread " << t << " line " << i;
    }
  }
}

}  // namespace
}  // namespace nyx::log
