#include "cli/json_view.hpp"

#include <gtest/gtest.h>

namespace nyx::cli {
namespace {

using nlohmann::json;

TEST(Humanize, ReadsUnitsFromNames) {
  EXPECT_EQ(humanize("rx_bytes", 1536), "1.50 KiB");
  EXPECT_EQ(humanize("bytes_sent", 2048), "2.00 KiB");
  EXPECT_EQ(humanize("nyx_link_sent_bytes_total", 1024 * 1024), "1.00 MiB");
  EXPECT_EQ(humanize("rtt_ms", 12.5), "12.5 ms");
  EXPECT_EQ(humanize("latency_seconds", 0.25), "250 ms");
  EXPECT_EQ(humanize("setup_us", 1500), "1.50 ms");
  EXPECT_EQ(humanize("uptime_seconds", 3725), "1h 02m");
  EXPECT_EQ(humanize("cells", 1234567), "1,234,567");
  EXPECT_EQ(humanize("ratio", 0.125), "0.125");
  EXPECT_EQ(humanize("nyx_transport_udp_bytes_total", 2048), "2.00 KiB");
  EXPECT_EQ(humanize("nyx_node_uptime_seconds", 75), "1m 15s");
}

TEST(Humanize, IdentifiersAndTimesAreNotQuantities) {
  EXPECT_EQ(humanize("pid", 123456), "123456");
  EXPECT_EQ(humanize("socks_port", 19105), "19105");
  EXPECT_EQ(humanize("directory.valid_until", 0), "1970-01-01 00:00:00 UTC");
}

TEST(Humanize, ShortensKeysToSixteenHexDigits) {
  EXPECT_EQ(humanize("identity_key", std::string(64, 'a')), std::string(16, 'a'));
  EXPECT_EQ(humanize("note", std::string(64, 'z')), std::string(64, 'z'));
}

TEST(Humanize, ReadsNonNumbers) {
  EXPECT_EQ(humanize("x", nullptr), "-");
  EXPECT_EQ(humanize("x", true), "yes");
  EXPECT_EQ(humanize("roles", json::array({"client", "exit"})), "client,exit");
  EXPECT_EQ(humanize("x", json::array()), "-");
  EXPECT_EQ(humanize("nickname", "alpha"), "alpha");
}

TEST(RenderFields, FlattensNestedObjects) {
  const json info = {{"nickname", "n1"}, {"socks", {{"listen", "127.0.0.1:9050"}}}};
  EXPECT_EQ(render_fields(info),
            "FIELD         VALUE\n"
            "nickname      n1\n"
            "socks.listen  127.0.0.1:9050\n");
}

TEST(RenderRecords, OneColumnPerFieldNumbersRightAligned) {
  const json peers = {
      {"peers", json::array({{{"id", "ab12"}, {"rx_bytes", 2048}},
                             {{"id", "cd34"}, {"rx_bytes", 10}, {"rtt_ms", 1.5}}})}};
  EXPECT_EQ(render_records(peers, "no peers"),
            "ID    RX BYTES   RTT MS\n"
            "ab12  2.00 KiB        -\n"
            "cd34      10 B  1.50 ms\n");
}

TEST(RenderRecords, PutsNamesFirst) {
  const json peers = json::array({{{"bandwidth", 1}, {"up", true}, {"identity_key", "k"}}});
  EXPECT_EQ(render_records(peers, "none"),
            "IDENTITY KEY  UP   BANDWIDTH\n"
            "k             yes          1\n");
}

TEST(RenderRecords, SaysSoWhenEmpty) {
  EXPECT_EQ(render_records(json::array(), "no circuits"), "no circuits\n");
  EXPECT_EQ(render_records({{"streams", json::array()}}, "no streams"), "no streams\n");
}

json snapshot(double sent) {
  return {
      {"nyx_sent_bytes_total",
       {{"type", "counter"},
        {"help", "bytes sent"},
        {"series", json::array({{{"labels", {{"link", "udp"}}}, {"value", sent}}})}}},
      {"nyx_setup_seconds",
       {{"type", "histogram"},
        {"help", "circuit setup"},
        {"series", json::array({{{"labels", json::object()},
                                 {"count", 3},
                                 {"sum", 0.03},
                                 {"buckets", json::array({{{"le", 0.005}, {"count", 0}},
                                                          {{"le", 0.01}, {"count", 2}},
                                                          {{"le", 0.02}, {"count", 3}}})}}})}}}};
}

TEST(RenderStats, ShowsCountersAndHistogramsInUnits) {
  EXPECT_EQ(render_stats(snapshot(4096)),
            "METRIC            LABELS                                         VALUE\n"
            "sent_bytes_total  link=udp                                    4.00 KiB\n"
            "setup_seconds               n=3 mean=10.0 ms p50<=10.0 ms p95<=20.0 ms\n");
}

TEST(RenderStats, AddsRatesAgainstThePreviousSnapshot) {
  const json before = snapshot(0);
  const json after = {{"metrics", snapshot(2 * 1024 * 1024)}};
  const std::string table = render_stats(after, &before, 2.0);
  EXPECT_NE(table.find("RATE"), std::string::npos);
  EXPECT_NE(table.find("1.00 MiB/s"), std::string::npos) << table;
}

// The transport's families carry labels (dir=rx|tx): each series keeps its
// own rate, matched by labels against the previous snapshot.
json transport_snapshot(double rx, double tx) {
  return {{"nyx_transport_udp_bytes_total",
           {{"type", "counter"},
            {"help", "UDP bytes"},
            {"series", json::array({{{"labels", {{"dir", "rx"}}}, {"value", rx}},
                                    {{"labels", {{"dir", "tx"}}}, {"value", tx}}})}}},
          {"nyx_transport_links_up",
           {{"type", "gauge"},
            {"help", "Links established now"},
            {"series", json::array({{{"labels", json::object()}, {"value", 2}}})}}}};
}

TEST(RenderStats, RatesLabelledSeriesOfOneFamilyApart) {
  const json before = transport_snapshot(0, 0);
  const json after = transport_snapshot(4 * 1024 * 1024, 1024);
  EXPECT_EQ(render_stats(after, &before, 2.0),
            "METRIC                     LABELS     VALUE        RATE\n"
            "transport_links_up                        2\n"
            "transport_udp_bytes_total  dir=rx  4.00 MiB  2.00 MiB/s\n"
            "transport_udp_bytes_total  dir=tx  1.00 KiB     512 B/s\n");
}

TEST(RenderStats, FallsBackToFieldsForPlainObjects) {
  EXPECT_EQ(render_stats({{"cells", 5}}), "FIELD  VALUE\ncells  5\n");
}

}  // namespace
}  // namespace nyx::cli
