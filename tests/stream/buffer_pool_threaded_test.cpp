#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "stream/buffer_pool.hpp"

namespace nyx::stream {
namespace {

// Several threads acquire, fill, share and release buffers of every class,
// handing slices to each other so blocks are released on threads other than
// the one that took them. Run under TSan in CI.
TEST(BufferPoolThreaded, ManyThreadsAcquireShareAndRelease) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 20000;
  const std::size_t before = BufferPool::in_use_bytes();
  std::vector<std::vector<Slice>> handoff(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  Buffer shared_buffer = BufferPool::acquire(SizeClass::kSmall);
  shared_buffer.data()[0] = 42;
  shared_buffer.set_size(1);
  const Slice common = std::move(shared_buffer).freeze();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &handoff, &errors, &common] {
      std::vector<Slice> mine;
      for (int i = 0; i < kRounds; ++i) {
        Slice copy = common;  // the count is bumped from every thread at once
        if (copy.bytes()[0] != 42) {
          errors.fetch_add(1);
        }
        const auto c = static_cast<SizeClass>(i % 3);
        Buffer b = BufferPool::acquire(c);
        b.data()[0] = static_cast<std::uint8_t>(t);
        b.data()[b.capacity() - 1] = static_cast<std::uint8_t>(i);
        b.set_size(b.capacity());
        if (i % 7 == 0) {
          mine.push_back(std::move(b).freeze());
        }
        if (mine.size() > 50) {
          for (const Slice& s : mine) {
            if (s.bytes()[0] != t) {
              errors.fetch_add(1);
            }
          }
          mine.clear();
        }
      }
      handoff[static_cast<std::size_t>(t)] = std::move(mine);
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  // Release the leftovers from one thread, then everything is back.
  std::thread([&handoff] { handoff.clear(); }).join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(BufferPool::in_use_bytes(), before + kSmallBufferSize);  // `common`
}

}  // namespace
}  // namespace nyx::stream
