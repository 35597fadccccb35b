#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/metrics/histogram.hpp"
#include "core/metrics/registry.hpp"

namespace nyx::metrics {
namespace {

TEST(Counter, CountsIncrements) {
  Counter counter;
  EXPECT_EQ(counter.value(), 0u);
  counter.inc();
  counter.inc(41);
  EXPECT_EQ(counter.value(), 42u);
}

TEST(Gauge, SetsAndAdds) {
  Gauge gauge;
  gauge.set(10);
  gauge.add(-15);
  EXPECT_EQ(gauge.value(), -5);
  gauge.set(3);
  EXPECT_EQ(gauge.value(), 3);
}

TEST(HistogramBuckets, SmallValuesAreExactAndLargeOnesWithinAnEighth) {
  for (std::uint64_t v = 0; v < 16; ++v) {
    EXPECT_EQ(histogram_bucket_top(histogram_bucket(v)), v);
  }
  for (const std::uint64_t v :
       std::initializer_list<std::uint64_t>{16, 17, 100, 1000, 123456789, std::uint64_t{1} << 40,
                                            std::numeric_limits<std::uint64_t>::max()}) {
    const std::size_t bucket = histogram_bucket(v);
    ASSERT_LT(bucket, kHistogramBuckets);
    const std::uint64_t top = histogram_bucket_top(bucket);
    EXPECT_GE(top, v);
    EXPECT_LE(top - v, v / 8) << v;
    EXPECT_LT(histogram_bucket_top(bucket - 1), v) << v;  // v is in no lower bucket
  }
  EXPECT_EQ(histogram_bucket(std::numeric_limits<std::uint64_t>::max()), kHistogramBuckets - 1);
}

TEST(Histogram, PercentilesOfOneToAThousand) {
  Histogram histogram;
  for (std::uint64_t v = 1; v <= 1000; ++v) {
    histogram.record(v);
  }
  const HistogramSnapshot snap = histogram.snapshot();
  EXPECT_EQ(snap.count(), 1000u);
  EXPECT_EQ(snap.sum(), 500'500u);
  EXPECT_EQ(snap.max(), 1000u);
  // The true p50 is 500, in bucket [480, 511]; p95 950 in [896, 959];
  // p99 990 in [960, 1023], capped at the max.
  EXPECT_EQ(snap.percentile(0.5), 511u);
  EXPECT_EQ(snap.percentile(0.95), 959u);
  EXPECT_EQ(snap.percentile(0.99), 1000u);
  EXPECT_EQ(snap.percentile(1.0), 1000u);
  EXPECT_EQ(snap.percentile(0.0), 1u);
}

TEST(Histogram, PercentilesOfSmallValuesAreExact) {
  Histogram histogram;
  for (int i = 0; i < 90; ++i) {
    histogram.record(3);
  }
  for (int i = 0; i < 9; ++i) {
    histogram.record(7);
  }
  histogram.record(12);
  const HistogramSnapshot snap = histogram.snapshot();
  EXPECT_EQ(snap.percentile(0.5), 3u);
  EXPECT_EQ(snap.percentile(0.9), 3u);
  EXPECT_EQ(snap.percentile(0.95), 7u);
  EXPECT_EQ(snap.percentile(0.99), 7u);
  EXPECT_EQ(snap.percentile(0.999), 12u);
}

TEST(Histogram, EmptySnapshotIsZero) {
  Histogram histogram;
  const HistogramSnapshot snap = histogram.snapshot();
  EXPECT_EQ(snap.count(), 0u);
  EXPECT_EQ(snap.percentile(0.5), 0u);
  EXPECT_EQ(snap.max(), 0u);
}

TEST(Histogram, SnapshotsMerge) {
  Histogram low;
  Histogram high;
  for (std::uint64_t v = 1; v <= 50; ++v) {
    low.record(v);
    high.record(v + 1000);
  }
  HistogramSnapshot merged = low.snapshot();
  merged.merge(high.snapshot());
  EXPECT_EQ(merged.count(), 100u);
  EXPECT_EQ(merged.sum(), 1275u + 51'275u);
  EXPECT_EQ(merged.max(), 1050u);
  EXPECT_EQ(merged.percentile(0.5), 51u);     // [48, 51]
  EXPECT_EQ(merged.percentile(0.51), 1023u);  // 1001 in [960, 1023]
}

TEST(Registry, SameNameAndLabelsGiveTheSameObject) {
  Registry registry;
  Counter& a = registry.counter("nyx_cells_total", "Cells.", {{"dir", "in"}, {"link", "udp"}});
  Counter& b = registry.counter("nyx_cells_total", "Cells.", {{"link", "udp"}, {"dir", "in"}});
  Counter& c = registry.counter("nyx_cells_total", "Cells.", {{"dir", "out"}, {"link", "udp"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  EXPECT_EQ(&registry.gauge("nyx_peers", "Peers."), &registry.gauge("nyx_peers", "Peers."));
  const std::vector<double> bounds{0.1, 1};
  EXPECT_EQ(&registry.histogram("nyx_rtt_seconds", "RTT.", bounds),
            &registry.histogram("nyx_rtt_seconds", "RTT.", bounds));
}

TEST(Registry, RejectsBadNamesAndClashes) {
  Registry registry;
  EXPECT_THROW(registry.counter("cells_total", "no prefix"), std::invalid_argument);
  EXPECT_THROW(registry.counter("nyx_bad-name", "dash"), std::invalid_argument);
  EXPECT_THROW(registry.counter("nyx_x", "h", {{"1st", "v"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("nyx_x", "h", {{"__reserved", "v"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("nyx_x", "h", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("nyx_h", "h", {1.0}, {{"le", "x"}}), std::invalid_argument);
  registry.counter("nyx_x", "h");
  EXPECT_THROW(registry.gauge("nyx_x", "h"), std::invalid_argument);
  // A counter object and a counter function cannot share a series.
  EXPECT_THROW(registry.counter_from("nyx_x", "h", [] { return 1.0; }), std::invalid_argument);
  registry.gauge_from("nyx_f", "h", [] { return 1.0; });
  EXPECT_THROW(registry.gauge("nyx_f", "h"), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter_from("process_cpu_seconds_total", "h", [] { return 0.0; }));
  EXPECT_THROW(registry.counter("processes_total", "neither prefix"), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter("nyx_ok:sub_1", "h", {{"_a1", "any \"text\"\n"}}));
}

TEST(Registry, PrometheusTextExactly) {
  Registry registry;
  registry.counter("nyx_cells_total", "Cells relayed.", {{"dir", "in"}}).inc(7);
  registry.counter("nyx_cells_total", "Cells relayed.", {{"dir", "out"}}).inc(3);
  registry.gauge("nyx_circuits", "Open circuits.\nPer node, a \\ b.").set(-2);
  registry.counter("nyx_drops_total", "Drops.", {{"peer", "a\"b\\c\nd"}, {"kind", "q"}}).inc();
  registry.gauge_from("process_open_fds", "Open fds.", [] { return 12.0; });
  registry.counter_from("process_cpu_seconds_total", "CPU.", [] { return 1.25; });
  registry.gauge_from("nyx_unknown", "Cannot be read.", [] { return std::nan(""); });

  EXPECT_EQ(registry.prometheus_text(),
            "# HELP nyx_cells_total Cells relayed.\n"
            "# TYPE nyx_cells_total counter\n"
            "nyx_cells_total{dir=\"in\"} 7\n"
            "nyx_cells_total{dir=\"out\"} 3\n"
            "# HELP nyx_circuits Open circuits.\\nPer node, a \\\\ b.\n"
            "# TYPE nyx_circuits gauge\n"
            "nyx_circuits -2\n"
            "# HELP nyx_drops_total Drops.\n"
            "# TYPE nyx_drops_total counter\n"
            "nyx_drops_total{kind=\"q\",peer=\"a\\\"b\\\\c\\nd\"} 1\n"
            "# HELP nyx_unknown Cannot be read.\n"
            "# TYPE nyx_unknown gauge\n"
            "nyx_unknown NaN\n"
            "# HELP process_cpu_seconds_total CPU.\n"
            "# TYPE process_cpu_seconds_total counter\n"
            "process_cpu_seconds_total 1.25\n"
            "# HELP process_open_fds Open fds.\n"
            "# TYPE process_open_fds gauge\n"
            "process_open_fds 12\n");
}

TEST(Registry, HistogramExposition) {
  Registry registry;
  BucketHistogram& build =
      registry.histogram("nyx_build_seconds", "Builds.", {0.25, 0.5, 1}, {{"kind", "a"}});
  for (const double v : {0.125, 0.25, 0.375, 0.75, 0.75, 3.0}) {
    build.observe(v);
  }
  registry.histogram("nyx_build_seconds", "Builds.", {0.25, 0.5, 1}, {{"kind", "b"}});

  // Cumulative buckets (a value equal to a bound is in it), +Inf == count.
  EXPECT_EQ(registry.prometheus_text(),
            "# HELP nyx_build_seconds Builds.\n"
            "# TYPE nyx_build_seconds histogram\n"
            "nyx_build_seconds_bucket{kind=\"a\",le=\"0.25\"} 2\n"
            "nyx_build_seconds_bucket{kind=\"a\",le=\"0.5\"} 3\n"
            "nyx_build_seconds_bucket{kind=\"a\",le=\"1\"} 5\n"
            "nyx_build_seconds_bucket{kind=\"a\",le=\"+Inf\"} 6\n"
            "nyx_build_seconds_sum{kind=\"a\"} 5.25\n"
            "nyx_build_seconds_count{kind=\"a\"} 6\n"
            "nyx_build_seconds_bucket{kind=\"b\",le=\"0.25\"} 0\n"
            "nyx_build_seconds_bucket{kind=\"b\",le=\"0.5\"} 0\n"
            "nyx_build_seconds_bucket{kind=\"b\",le=\"1\"} 0\n"
            "nyx_build_seconds_bucket{kind=\"b\",le=\"+Inf\"} 0\n"
            "nyx_build_seconds_sum{kind=\"b\"} 0\n"
            "nyx_build_seconds_count{kind=\"b\"} 0\n");
}

TEST(Registry, HistogramBoundsAreFixedPerFamily) {
  Registry registry;
  registry.histogram("nyx_h_seconds", "h", {0.1, 1});
  EXPECT_THROW(registry.histogram("nyx_h_seconds", "h", {0.1, 2}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("nyx_h_seconds", "h", {0.1, 2}, {{"a", "b"}}),
               std::invalid_argument);
  EXPECT_THROW(registry.histogram("nyx_bad_seconds", "h", {}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("nyx_bad_seconds", "h", {1, 1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("nyx_bad_seconds", "h", {2, 1}), std::invalid_argument);
  EXPECT_THROW(
      registry.histogram("nyx_bad_seconds", "h", {1, std::numeric_limits<double>::infinity()}),
      std::invalid_argument);
  // Bad bounds left nothing behind: good ones register afterwards.
  EXPECT_NO_THROW(registry.histogram("nyx_bad_seconds", "h", {1, 2}));
}

TEST(BucketHistogram, ExponentialBucketsAndEdges) {
  EXPECT_EQ(exponential_buckets(0.005, 2, 4), (std::vector<double>{0.005, 0.01, 0.02, 0.04}));
  EXPECT_THROW(exponential_buckets(0, 2, 4), std::invalid_argument);
  EXPECT_THROW(exponential_buckets(1, 1, 4), std::invalid_argument);
  EXPECT_THROW(exponential_buckets(1, 2, 0), std::invalid_argument);

  BucketHistogram histogram({1, 2});
  histogram.observe(-5);  // below the first bound: in it
  histogram.observe(2);
  histogram.observe(std::numeric_limits<double>::infinity());
  histogram.observe(std::nan(""));  // counted past every bound, not in the first
  const BucketHistogramSnapshot snap = histogram.snapshot();
  EXPECT_EQ(snap.cumulative, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(snap.count, 4u);
  EXPECT_TRUE(std::isnan(snap.sum));
}

TEST(Registry, JsonSnapshot) {
  Registry registry;
  registry.counter("nyx_cells_total", "Cells.", {{"dir", "in"}}).inc(7);
  registry.gauge("nyx_circuits", "Circuits.").set(4);
  registry.gauge_from("process_max_fds", "Max fds.", [] { return 1024.0; });
  BucketHistogram& rtt = registry.histogram("nyx_rtt_seconds", "RTT.", {0.5, 2});
  for (const double v : {0.25, 1.0, 1.5, 4.0}) {
    rtt.observe(v);
  }
  const auto json = nlohmann::json::parse(registry.json());
  EXPECT_EQ(json["nyx_cells_total"]["type"], "counter");
  EXPECT_EQ(json["nyx_cells_total"]["help"], "Cells.");
  EXPECT_EQ(json["nyx_cells_total"]["series"][0]["labels"]["dir"], "in");
  EXPECT_EQ(json["nyx_cells_total"]["series"][0]["value"], 7);
  EXPECT_EQ(json["nyx_circuits"]["series"][0]["value"], 4);
  EXPECT_TRUE(json["nyx_circuits"]["series"][0]["labels"].empty());
  EXPECT_EQ(json["process_max_fds"]["series"][0]["value"], 1024.0);
  const auto& h = json["nyx_rtt_seconds"]["series"][0];
  EXPECT_EQ(json["nyx_rtt_seconds"]["type"], "histogram");
  EXPECT_EQ(h["count"], 4);
  EXPECT_EQ(h["sum"], 6.75);
  EXPECT_EQ(h["buckets"], nlohmann::json::parse(R"([{"le": 0.5, "count": 1},
                                                     {"le": 2.0, "count": 3}])"));
  EXPECT_FALSE(h.contains("value"));
}

}  // namespace
}  // namespace nyx::metrics
