// Core microbenchmarks: the rate limiter, counters, histograms and metrics
// exposition, each beside its baseline (see docs/performance.md).
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/clock.hpp"
#include "core/detail/gcra.hpp"
#include "core/metrics/histogram.hpp"
#include "core/metrics/registry.hpp"
#include "core/rate_limiter.hpp"

namespace nyx {
namespace {

namespace gcra = detail::gcra;

// High enough that every call is admitted: these benchmarks time the admit
// path, the one traffic under the limit takes. `admitted` reports the share.
constexpr double kBenchRate = 1e12;
constexpr std::uint64_t kBenchBurst = 1'000'000'000;

// The same bucket (GCRA, same arithmetic) the simple way: a mutex around it
// and a clock read on every call.
class MutexBucket {
 public:
  MutexBucket(const Clock& clock, double tokens_per_second, std::uint64_t burst)
      : clock_(clock),
        interval_(gcra::interval_for(tokens_per_second, burst)),
        tau_(gcra::tau_for(burst, interval_)),
        z_(gcra::to_units(clock.now()) - static_cast<std::uint64_t>(tau_)) {}

  bool try_acquire(std::uint64_t n = 1) {
    std::lock_guard lock(mu_);
    const std::uint64_t now = gcra::to_units(clock_.now());
    const std::int64_t cost = gcra::cost_for(n, interval_, tau_);
    const std::int64_t credit = gcra::credit(now, z_, tau_);
    if (cost < 0 || credit < cost) {
      return false;
    }
    z_ = now - static_cast<std::uint64_t>(credit - cost);
    return true;
  }

 private:
  std::mutex mu_;
  const Clock& clock_;
  const std::int64_t interval_;
  const std::int64_t tau_;
  std::uint64_t z_;
};

TokenBucket g_bucket(SteadyClock::instance(), kBenchRate, kBenchBurst);
MutexBucket g_mutex_bucket(SteadyClock::instance(), kBenchRate, kBenchBurst);

template <class Bucket>
void run_bucket(benchmark::State& state, Bucket& bucket) {
  std::uint64_t admitted = 0;
  for (auto _ : state) {
    const bool ok = bucket.try_acquire();
    benchmark::DoNotOptimize(ok);
    admitted += ok ? 1 : 0;
  }
  state.counters["admitted"] =
      benchmark::Counter(static_cast<double>(admitted) / static_cast<double>(state.iterations()),
                         benchmark::Counter::kAvgThreads);
}

void BM_RateLimiter_TryAcquire(benchmark::State& state) { run_bucket(state, g_bucket); }
BENCHMARK(BM_RateLimiter_TryAcquire)->Threads(1)->Threads(2)->UseRealTime();

void BM_Baseline_MutexBucket_TryAcquire(benchmark::State& state) {
  run_bucket(state, g_mutex_bucket);
}
BENCHMARK(BM_Baseline_MutexBucket_TryAcquire)->Threads(1)->Threads(2)->UseRealTime();

metrics::Counter g_counter;
std::atomic<std::uint64_t> g_shared{0};

void BM_Counter_Inc(benchmark::State& state) {
  for (auto _ : state) {
    g_counter.inc();
  }
  benchmark::DoNotOptimize(g_counter.value());
}
BENCHMARK(BM_Counter_Inc)->Threads(1)->Threads(2)->UseRealTime();

void BM_Baseline_AtomicFetchAdd(benchmark::State& state) {
  for (auto _ : state) {
    g_shared.fetch_add(1, std::memory_order_relaxed);
  }
  benchmark::DoNotOptimize(g_shared.load());
}
BENCHMARK(BM_Baseline_AtomicFetchAdd)->Threads(1)->Threads(2)->UseRealTime();

// Latency-like values spread over many buckets (xorshift, 1 ns .. ~1 s).
std::vector<std::uint64_t> histogram_values() {
  std::vector<std::uint64_t> values(4096);
  std::uint64_t x = 88172645463325252ull;
  for (auto& v : values) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v = (x >> (x % 34 + 30)) + 1;
  }
  return values;
}

void BM_Histogram_Record(benchmark::State& state) {
  static const std::vector<std::uint64_t> values = histogram_values();
  metrics::Histogram histogram;
  std::size_t i = 0;
  for (auto _ : state) {
    histogram.record(values[i++ & 4095]);
  }
  benchmark::DoNotOptimize(histogram.snapshot().count());
}
BENCHMARK(BM_Histogram_Record);

// Baseline for the record: one relaxed increment of a plain bucket array.
void BM_Baseline_ArrayIncrement(benchmark::State& state) {
  static const std::vector<std::uint64_t> values = histogram_values();
  std::vector<std::uint64_t> buckets(metrics::kHistogramBuckets);
  std::size_t i = 0;
  for (auto _ : state) {
    ++buckets[metrics::histogram_bucket(values[i++ & 4095])];
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(buckets.data());
}
BENCHMARK(BM_Baseline_ArrayIncrement);

// A registry of `series` metrics shaped like a node's: 60 % counters, 30 %
// gauges, 10 % histograms, in families of 50 label values each.
void fill_registry(metrics::Registry& registry, std::int64_t series) {
  for (std::int64_t i = 0; i < series; ++i) {
    const std::string family = std::to_string(i / 50);
    const metrics::Labels labels{{"peer", "peer-" + std::to_string(i % 50)}, {"dir", "in"}};
    if (i % 10 < 6) {
      registry.counter("nyx_bench_counter_" + family + "_total", "A counter.", labels)
          .inc(static_cast<std::uint64_t>(i));
    } else if (i % 10 < 9) {
      registry.gauge("nyx_bench_gauge_" + family, "A gauge.", labels).set(i);
    } else {
      metrics::BucketHistogram& h =
          registry.histogram("nyx_bench_hist_" + family, "A histogram.",
                             metrics::exponential_buckets(0.001, 2, 12), labels);
      for (int v = 1; v < 1000; v += 7) {
        h.observe(v * 1e-3 * static_cast<double>(i));
      }
    }
  }
}

void BM_Metrics_Exposition(benchmark::State& state) {
  metrics::Registry registry;
  fill_registry(registry, state.range(0));
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = registry.prometheus_text();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
}
BENCHMARK(BM_Metrics_Exposition)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_Metrics_JsonSnapshot(benchmark::State& state) {
  metrics::Registry registry;
  fill_registry(registry, state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(registry.json());
  }
}
BENCHMARK(BM_Metrics_JsonSnapshot)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace nyx

BENCHMARK_MAIN();
