#include "cli/bench_summary.hpp"

#include <gtest/gtest.h>

#include "core/metrics/histogram.hpp"

namespace nyx::cli {
namespace {

using std::chrono::seconds;

TEST(BenchSummary, RatesAndPercentilesFromTotals) {
  metrics::Histogram latency;
  metrics::Histogram ttfb;
  // 100 requests: 1..100 microseconds.
  for (std::uint64_t us = 1; us <= 100; ++us) {
    latency.record(us * 1000);
    ttfb.record(us * 500);
  }
  BenchTotals totals;
  totals.requests = 100;
  totals.errors = 3;
  totals.errors_by_kind = {0, 1, 2, 0};
  totals.bytes = 100 * 1024;
  totals.latency_ns = latency.snapshot();
  totals.ttfb_ns = ttfb.snapshot();
  totals.elapsed = seconds(2);

  const BenchSummary s = summarize(totals);
  EXPECT_EQ(s.requests, 100U);
  EXPECT_EQ(s.errors, 3U);
  EXPECT_EQ(s.errors_by_kind[1], 1U);
  EXPECT_EQ(s.errors_by_kind[2], 2U);
  EXPECT_DOUBLE_EQ(s.elapsed_s, 2.0);
  EXPECT_DOUBLE_EQ(s.requests_per_s, 50.0);
  EXPECT_DOUBLE_EQ(s.bytes_per_s, 51200.0);
  // Log-linear buckets: within 12.5 % above the true percentile.
  EXPECT_GE(s.latency_p50_ms, 0.050);
  EXPECT_LE(s.latency_p50_ms, 0.050 * 1.125);
  EXPECT_GE(s.latency_p95_ms, 0.095);
  EXPECT_LE(s.latency_p95_ms, 0.095 * 1.125);
  EXPECT_GE(s.latency_p99_ms, 0.099);
  EXPECT_DOUBLE_EQ(s.latency_max_ms, 0.100);
  EXPECT_GE(s.ttfb_p50_ms, 0.025);
  EXPECT_LE(s.ttfb_p95_ms, 0.0475 * 1.125);
}

TEST(BenchSummary, ThreadsMergeIntoOneDistribution) {
  metrics::Histogram fast;
  metrics::Histogram slow;
  for (int i = 0; i < 90; ++i) {
    fast.record(1'000'000);  // 1 ms
  }
  for (int i = 0; i < 10; ++i) {
    slow.record(80'000'000);  // 80 ms
  }
  BenchTotals totals;
  totals.latency_ns = fast.snapshot();
  totals.latency_ns.merge(slow.snapshot());
  totals.elapsed = seconds(1);
  const BenchSummary s = summarize(totals);
  EXPECT_LE(s.latency_p50_ms, 1.125);
  EXPECT_GE(s.latency_p95_ms, 80.0);
  EXPECT_DOUBLE_EQ(s.latency_max_ms, 80.0);
}

TEST(BenchSummary, EmptyRunIsAllZeros) {
  const BenchSummary s = summarize(BenchTotals{});
  EXPECT_EQ(s.requests, 0U);
  EXPECT_EQ(s.requests_per_s, 0.0);
  EXPECT_EQ(s.latency_p99_ms, 0.0);
}

TEST(BenchSummary, JsonHasTheDocumentedKeys) {
  BenchSummary s;
  s.requests = 7;
  s.errors_by_kind[3] = 4;
  s.latency_p95_ms = 1.5;
  s.ttfb_p50_ms = 0.25;
  s.bytes_per_s = 1e6;
  const auto json = to_json(s);
  EXPECT_EQ(json.at("requests"), 7);
  EXPECT_EQ(json.at("errors"), 0);
  EXPECT_EQ(json.at("errors_by_kind").at("reset"), 4);
  EXPECT_EQ(json.at("errors_by_kind").at("socks"), 0);
  EXPECT_EQ(json.at("errors_by_kind").size(), kBenchErrorKinds);
  EXPECT_TRUE(json.contains("requests_per_s"));
  EXPECT_EQ(json.at("latency_ms").at("p95"), 1.5);
  for (const char* key : {"p50", "p99", "max"}) {
    EXPECT_TRUE(json.at("latency_ms").contains(key)) << key;
  }
  EXPECT_EQ(json.at("ttfb_ms").at("p50"), 0.25);
  EXPECT_TRUE(json.at("ttfb_ms").contains("p95"));
  EXPECT_EQ(json.at("bytes_per_s"), 1e6);
}

TEST(BenchSummary, TextNamesEveryNumber) {
  BenchSummary s;
  s.requests = 12;
  s.errors = 2;
  s.bytes_per_s = 2.5e6;
  const std::string text = format_summary(s);
  EXPECT_NE(text.find("12"), std::string::npos);
  EXPECT_NE(text.find("2 errors"), std::string::npos);
  EXPECT_NE(text.find("2.5 MB/s"), std::string::npos);
  EXPECT_EQ(format_rate(1.5e9), "1.50 GB/s");
  EXPECT_EQ(format_rate(800), "800 B/s");
}

}  // namespace
}  // namespace nyx::cli
