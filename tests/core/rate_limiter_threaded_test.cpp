#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/keyed_rate_limiter.hpp"
#include "core/rate_limiter.hpp"

namespace nyx {
namespace {

constexpr int kWorkers = 4;

// Tokens a bucket of this rate and burst may have handed out by `elapsed`.
double bound(double rate, std::uint64_t burst, Nanos elapsed) {
  return static_cast<double>(burst) + rate * std::chrono::duration<double>(elapsed).count();
}

// Workers take 1..3 tokens at a time while the main thread moves a manual
// clock; at every step the tokens handed out stay within burst + rate * t.
TEST(TokenBucketThreaded, AdmissionsNeverExceedBurstPlusRateTimesElapsed) {
  constexpr double kRate = 100'000.0;  // 100 tokens per ms
  constexpr std::uint64_t kBurst = 1000;
  ManualClock clock;
  TokenBucket bucket(clock, kRate, kBurst);
  std::atomic<std::uint64_t> admitted{0};
  std::atomic<int> started{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  workers.reserve(kWorkers);
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      std::uint64_t n = 1 + static_cast<std::uint64_t>(w % 3);
      started.fetch_add(1);
      while (!stop.load(std::memory_order_relaxed)) {
        if (bucket.try_acquire(n)) {
          admitted.fetch_add(n, std::memory_order_relaxed);
        }
        n = n % 3 + 1;
      }
    });
  }
  // The clock moves only once every worker runs: 2000 steps take a few ms,
  // and a loaded machine (ctest -j2 under ASan) can start a thread later
  // than that, which would leave the bucket unused and prove nothing.
  while (started.load() < kWorkers) {
    std::this_thread::yield();
  }
  for (int step = 0; step < 2000; ++step) {
    // The count first, then the clock: every counted admission happened at a
    // clock reading no later than this one.
    const std::uint64_t so_far = admitted.load();
    ASSERT_LE(static_cast<double>(so_far), bound(kRate, kBurst, clock.now())) << step;
    clock.advance(std::chrono::microseconds(100));
    if (step % 256 == 0) {
      std::this_thread::yield();
    }
  }
  // The bucket now holds its full burst: the workers must be able to take
  // it (wall time bounded, so a bucket that refuses everything fails).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (admitted.load() < kBurst && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  stop = true;
  for (auto& worker : workers) {
    worker.join();
  }
  EXPECT_LE(static_cast<double>(admitted.load()), bound(kRate, kBurst, clock.now()));
  EXPECT_GE(admitted.load(), kBurst);
}

TEST(TokenBucketThreaded, HoldsAgainstARealClock) {
  constexpr double kRate = 1'000'000.0;
  constexpr std::uint64_t kBurst = 5000;
  SteadyClock& clock = SteadyClock::instance();
  const Nanos start = clock.now();
  TokenBucket bucket(clock, kRate, kBurst);
  std::atomic<std::uint64_t> admitted{0};
  std::vector<std::thread> workers;
  workers.reserve(kWorkers);
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      std::uint64_t mine = 0;
      const Nanos until = clock.now() + std::chrono::milliseconds(200);
      while (clock.now() < until) {
        for (int i = 0; i < 64; ++i) {
          mine += bucket.try_acquire() ? 1u : 0u;
        }
      }
      admitted.fetch_add(mine);
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  EXPECT_LE(static_cast<double>(admitted.load()), bound(kRate, kBurst, clock.now() - start));
  EXPECT_GT(admitted.load(), kBurst);
}

TEST(KeyedRateLimiterThreaded, KeysStayIndependentAndBounded) {
  ManualClock clock;
  KeyedRateLimiter<int> limiter(clock, 10.0, 5, 64, std::chrono::seconds(1));
  std::vector<std::atomic<std::uint64_t>> per_key(8);
  std::vector<std::thread> workers;
  workers.reserve(kWorkers);
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < 20'000; ++i) {
        const int key = (i + w) % 8;
        if (limiter.try_acquire(key)) {
          per_key[static_cast<std::size_t>(key)].fetch_add(1);
        }
        limiter.try_acquire(1000 + w * 100'000 + i);  // a flood of one-off keys
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  for (const auto& count : per_key) {
    EXPECT_EQ(count.load(), 5u);  // time never moved: exactly the burst each
  }
  EXPECT_LE(limiter.size(), 64u);
}

}  // namespace
}  // namespace nyx
