// The link emulator's statistics file: its fields (what
// tests/integration/linkemu_netns_test.cpp and scripts/bench_wan_report.py
// read), the latency quantiles and the verdict's reasons.
#include "cli/linkemu/switch_stats.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"

namespace nyx::linkemu {
namespace {

using nlohmann::json;

TEST(LatencyHistogram, QuantilesAreBucketUpperBoundsCappedAtTheMaximum) {
  LatencyHistogram h;
  EXPECT_EQ(h.quantile_us(0.99), 0);
  for (int i = 0; i < 99; ++i) {
    h.add(15 * kMicro);  // bucket [10, 20) us
  }
  h.add(3 * kMilli + 50 * kMicro);  // bucket [3000, 3100) us
  EXPECT_EQ(h.total(), 100u);
  EXPECT_EQ(h.quantile_us(0.5), 20);
  EXPECT_EQ(h.quantile_us(1.0), 3050);  // the bucket says 3100, nothing was that late
  EXPECT_EQ(h.max_us(), 3050);
  h.add(-kMilli);  // a frame stamped after its release counts as on time
  EXPECT_EQ(h.quantile_us(0.0), 10);
}

class SwitchStatsTest : public ::testing::Test {
 protected:
  SwitchStatsTest() : model_(2, 1) {
    config_.stats_path = (dir_.path() / "stats.json").string();
    config_.hosts = {SwitchHost{.name = "client", .index = 1, .port = "p1", .params = {}},
                     SwitchHost{.name = "exit", .index = 2, .port = "p2", .params = {}}};
    model_.set_link(0, 1, LinkParams{.delay = 20 * kMilli});
    model_.set_link(1, 0, LinkParams{.delay = 20 * kMilli});
    ports_.resize(2);
    ports_[0].name = "p1";
    ports_[0].received = 3;
    ports_[1].name = "p2";
    ports_[1].host = 1;
    ports_[1].sent = 3;
    ports_[1].ring_drops = 2;
  }

  json written() {
    write_switch_stats(config_, model_, ports_, stats_, true, kSecond);
    std::ifstream in(config_.stats_path);
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
  }

  test::TempDir dir_;
  SwitchConfig config_;
  LinkModel model_;
  std::vector<PortStats> ports_;
  SwitchStats stats_;
};

TEST_F(SwitchStatsTest, WritesEveryFieldTheReadersUse) {
  std::vector<LinkModel::Release> released;
  for (LinkModel::PacketId id = 0; id < 3; ++id) {
    model_.submit(id, 0, 1, 100, 0);
    stats_.lateness.add(50 * kMicro);
  }
  model_.release_due(kSecond, released);
  stats_.forwarded = 3;
  const json stats = written();
  for (const char* field : {"verdict",
                            "io",
                            "lateness_us",
                            "ingest_lag_us",
                            "forwarded",
                            "loss_drops",
                            "queue_drops",
                            "late_over_1ms",
                            "ring_drops",
                            "tx_errors",
                            "pool_drops",
                            "non_ipv4",
                            "unknown_destination",
                            "truncated",
                            "clock_steps",
                            "in_flight",
                            "wakeups",
                            "cpu_pct",
                            "ports",
                            "links",
                            "hosts"}) {
    EXPECT_TRUE(stats.contains(field)) << field;
  }
  EXPECT_EQ(stats["io"], "TPACKET_V2 ring");
  EXPECT_EQ(stats["forwarded"], 3);
  EXPECT_EQ(stats["lateness_us"]["count"], 3);
  EXPECT_EQ(stats["lateness_us"]["p99"], 50);
  EXPECT_EQ(stats["ring_drops"], 2);  // the ports' and the ring's together
  ASSERT_EQ(stats["ports"].size(), 2u);
  EXPECT_EQ(stats["ports"][1]["host"], "exit");
  EXPECT_EQ(stats["ports"][1]["sent"], 3);
  ASSERT_EQ(stats["links"].size(), 1u);  // only the link that carried packets
  EXPECT_EQ(stats["links"][0]["from"], "client");
  EXPECT_EQ(stats["links"][0]["packets"], 3);
  ASSERT_EQ(stats["hosts"].size(), 2u);
  EXPECT_EQ(stats["hosts"][0]["up"]["packets"], 3);
  EXPECT_FALSE(stats["verdict"]["ok"].get<bool>());
  EXPECT_EQ(stats["verdict"]["reasons"], json::array({"2 ring drops"}));
}

TEST_F(SwitchStatsTest, TheVerdictNamesEveryWayTheEmulatorFellBehind) {
  ports_[1].ring_drops = 0;
  EXPECT_TRUE(written()["verdict"]["ok"].get<bool>());
  stats_.pool_drops = 4;
  stats_.clock_steps = 1;
  ports_[0].tx_errors = 5;
  // 20 ms links: p99 may be 5 % of that, 1 ms; 2 of 101 frames 30 ms late
  // put both p99 and p99.9 there.
  for (int i = 0; i < 99; ++i) {
    stats_.lateness.add(200 * kMicro);
  }
  stats_.lateness.add(30 * kMilli);
  stats_.lateness.add(30 * kMilli);
  const json verdict = written()["verdict"];
  EXPECT_FALSE(verdict["ok"].get<bool>());
  EXPECT_EQ(verdict["reasons"],
            json::array({"5 transmit errors", "4 pool drops", "1 clock steps",
                         "p99 lateness 30000 us > 1000 us", "p99.9 lateness 30000 us > 5 ms",
                         "max lateness 30000 us > 20 ms"}));
}

TEST_F(SwitchStatsTest, NoPathNoFile) {
  config_.stats_path.clear();
  write_switch_stats(config_, model_, ports_, stats_, false, kSecond);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

}  // namespace
}  // namespace nyx::linkemu
