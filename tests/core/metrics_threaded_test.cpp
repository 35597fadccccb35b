#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/metrics/registry.hpp"

namespace nyx::metrics {
namespace {

// More threads than per-thread slots, so the shared overflow cell is used too.
constexpr int kThreads = static_cast<int>(detail::kSlots) + 4;
constexpr std::uint64_t kPerThread = 20'000;

template <class Body>
void run_threads(int count, Body body) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(count));
  std::atomic<int> ready{0};
  for (int t = 0; t < count; ++t) {
    threads.emplace_back([&, t] {
      // Wait until all exist, so that the slots are held at the same time.
      ready.fetch_add(1);
      while (ready.load() < count) {
        std::this_thread::yield();
      }
      body(t);
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
}

TEST(MetricsThreaded, CounterSumsEveryThreadsIncrements) {
  Registry registry;
  Counter& counter = registry.counter("nyx_test_total", "t");
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::uint64_t last = 0;
    while (!done.load()) {
      const std::uint64_t now = counter.value();
      EXPECT_GE(now, last);  // a reader never sees the sum go back
      last = now;
    }
  });
  run_threads(kThreads, [&](int) {
    for (std::uint64_t i = 0; i < kPerThread; ++i) {
      counter.inc();
    }
  });
  done = true;
  reader.join();
  EXPECT_EQ(counter.value(), kThreads * kPerThread);
}

TEST(MetricsThreaded, SlotsAreReusedByLaterThreadsWithoutLosingCounts) {
  Counter counter;
  for (int round = 0; round < 5; ++round) {
    run_threads(4, [&](int) { counter.inc(3); });
  }
  EXPECT_EQ(counter.value(), 5u * 4u * 3u);
}

TEST(MetricsThreaded, HistogramCountsEveryThreadsObservations) {
  Registry registry;
  // One bucket per thread's value, so each bucket must hold exactly kPerThread.
  std::vector<double> bounds;
  for (int t = 0; t < kThreads; ++t) {
    bounds.push_back(t);
  }
  BucketHistogram& histogram = registry.histogram("nyx_test_seconds", "t", bounds);
  run_threads(kThreads, [&](int t) {
    for (std::uint64_t i = 0; i < kPerThread; ++i) {
      histogram.observe(t);
    }
  });
  const BucketHistogramSnapshot snap = histogram.snapshot();
  EXPECT_EQ(snap.count, kThreads * kPerThread);
  double expected_sum = 0;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(snap.cumulative[static_cast<std::size_t>(t)],
              static_cast<std::uint64_t>(t + 1) * kPerThread);
    expected_sum += t * static_cast<double>(kPerThread);
  }
  EXPECT_EQ(snap.sum, expected_sum);
}

TEST(MetricsThreaded, RegistrationAndExpositionRaceUpdates) {
  Registry registry;
  run_threads(4, [&](int t) {
    for (int i = 0; i < 200; ++i) {
      registry.counter("nyx_shared_total", "s", {{"i", std::to_string(i % 10)}}).inc();
      registry.gauge("nyx_g", "g").add(1);
      if (t == 0 && i % 50 == 0) {
        EXPECT_FALSE(registry.prometheus_text().empty());
        EXPECT_FALSE(registry.json().empty());
      }
    }
  });
  EXPECT_EQ(registry.gauge("nyx_g", "g").value(), 800);
  EXPECT_EQ(registry.counter("nyx_shared_total", "s", {{"i", "3"}}).value(), 80u);
}

}  // namespace
}  // namespace nyx::metrics
