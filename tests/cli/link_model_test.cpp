// The link emulator's model in simulated time (docs/proposals/0003 §2.7):
// shaper departure times and queue bound, delay ordering, jitter that never
// reorders, reorder and loss rates, and a downlink serving two links.
#include "cli/linkemu/link_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace nyx::linkemu {
namespace {

std::vector<LinkModel::Release> run_all(LinkModel& model) {
  std::vector<LinkModel::Release> out;
  model.release_due(std::numeric_limits<Nanos>::max(), out);
  return out;
}

TEST(Shaper, DepartsOnePacketTimeAfterTheOther) {
  Shaper shaper(ShaperParams{.rate_bps = 8'000'000, .queue_bytes = 100'000});  // 1 byte/us
  EXPECT_EQ(shaper.admit(0, 1000), 1000 * kMicro);
  EXPECT_EQ(shaper.admit(0, 1000), 2000 * kMicro);
  EXPECT_EQ(shaper.admit(500 * kMicro, 500), 2500 * kMicro);
  // An idle shaper sends at once (plus the packet's own transmission time).
  EXPECT_EQ(shaper.admit(10 * kMilli, 100), 10 * kMilli + 100 * kMicro);
}

TEST(Shaper, RateIsExactOverASecond) {
  constexpr std::uint64_t kRate = 50'000'000;
  Shaper shaper(ShaperParams{.rate_bps = kRate, .queue_bytes = 1u << 30});
  constexpr int kPackets = 5765;  // ~1 s of 1084-byte packets
  Nanos last = 0;
  for (int i = 0; i < kPackets; ++i) {
    last = shaper.admit(0, 1084);
  }
  const auto exact = static_cast<double>(kPackets) * 1084 * 8 / kRate * 1e9;
  EXPECT_LE(std::abs(static_cast<double>(last) - exact), 1.0);  // no rounding drift
}

TEST(Shaper, DropsAtTheQueueBound) {
  Shaper shaper(ShaperParams{.rate_bps = 8'000'000, .queue_bytes = 3000});
  EXPECT_GT(shaper.admit(0, 1000), 0);
  EXPECT_GT(shaper.admit(0, 1000), 0);
  EXPECT_GT(shaper.admit(0, 1000), 0);  // exactly at the bound: admitted
  EXPECT_EQ(shaper.admit(0, 1), -1);
  EXPECT_EQ(shaper.counters().queue_drops, 1u);
  EXPECT_EQ(shaper.counters().max_backlog_bytes, 3000u);
  // One packet time later there is room for one more packet again.
  EXPECT_EQ(shaper.admit(1000 * kMicro, 1000), 4000 * kMicro);
  EXPECT_EQ(shaper.admit(1000 * kMicro, 1000), -1);
}

TEST(Shaper, QueueGivenAsTimeIsBytesAtTheRate) {
  EXPECT_EQ(queue_limit_bytes({.rate_bps = 50'000'000, .queue_time = 50 * kMilli}), 312'500u);
  EXPECT_EQ(queue_limit_bytes({.rate_bps = 1'000'000, .queue_time = 50 * kMilli}), 16'384u);
  EXPECT_EQ(queue_limit_bytes({.rate_bps = 1'000'000, .queue_bytes = 5000}), 5000u);
}

TEST(LinkModel, DelaysEachPacketAndKeepsTheOrder) {
  LinkModel model(2, 1);
  model.set_link(0, 1, LinkParams{.delay = 10 * kMilli});
  for (LinkModel::PacketId id = 0; id < 3; ++id) {
    ASSERT_EQ(model.submit(id, 0, 1, 100, id * kMilli), LinkModel::Verdict::kQueued);
  }
  EXPECT_EQ(model.next_event(), 10 * kMilli);
  std::vector<LinkModel::Release> out;
  model.release_due(10 * kMilli - 1, out);
  EXPECT_TRUE(out.empty());  // never early
  model.release_due(11 * kMilli, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].id, 0u);
  EXPECT_EQ(out[0].at, 10 * kMilli);
  EXPECT_EQ(out[1].id, 1u);
  EXPECT_EQ(out[1].to, 1);
  out = run_all(model);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].at, 12 * kMilli);
  EXPECT_EQ(model.next_event(), -1);
}

TEST(LinkModel, UplinkShaperThenDelay) {
  LinkModel model(2, 1);
  model.set_link(0, 1, LinkParams{.delay = 10 * kMilli});
  model.set_host(0, HostParams{.up = {.rate_bps = 8'000'000, .queue_bytes = 10'000}});
  for (LinkModel::PacketId id = 0; id < 12; ++id) {
    model.submit(id, 0, 1, 1000, 0);
  }
  const auto out = run_all(model);
  ASSERT_EQ(out.size(), 10u);  // 10 000 bytes of queue, the rest dropped
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].at, 10 * kMilli + static_cast<Nanos>(i + 1) * kMilli);
  }
  EXPECT_EQ(model.up_counters(0).queue_drops, 2u);
}

// Packets from two links reach one downlink in release order, not in arrival
// order: the shaper runs when a packet leaves its delay line.
TEST(LinkModel, DownlinkServesTwoLinksInReleaseOrder) {
  LinkModel model(3, 1);
  model.set_link(0, 2, LinkParams{.delay = 10 * kMilli});
  model.set_link(1, 2, LinkParams{.delay = 1 * kMilli});
  model.set_host(2, HostParams{.down = {.rate_bps = 8'000'000, .queue_bytes = 100'000}});
  model.submit(7, 0, 2, 1000, 0);           // leaves its line at 10 ms
  model.submit(8, 1, 2, 1000, 5 * kMilli);  // leaves its line at 6 ms
  const auto out = run_all(model);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].id, 8u);
  EXPECT_EQ(out[0].at, 7 * kMilli);
  EXPECT_EQ(out[1].id, 7u);
  EXPECT_EQ(out[1].at, 11 * kMilli);
}

TEST(LinkModel, DownlinkQueueBoundDrops) {
  LinkModel model(3, 1);
  model.set_host(2, HostParams{.down = {.rate_bps = 8'000'000, .queue_bytes = 2000}});
  model.submit(1, 0, 2, 1000, 0);
  model.submit(2, 1, 2, 1000, 0);
  model.submit(3, 1, 2, 1000, 0);
  const auto out = run_all(model);
  ASSERT_EQ(out.size(), 3u);
  int dropped = 0;
  for (const auto& r : out) {
    dropped += r.dropped ? 1 : 0;
  }
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ(model.down_counters(2).queue_drops, 1u);
}

TEST(LinkModel, JitterVariesTheDelayButNeverReorders) {
  LinkModel model(2, 42);
  model.set_link(0, 1,
                 LinkParams{.delay = 40 * kMilli, .jitter = 5 * kMilli, .jitter_tau = 20 * kMilli});
  constexpr int kPackets = 20'000;
  for (int i = 0; i < kPackets; ++i) {
    model.submit(static_cast<LinkModel::PacketId>(i), 0, 1, 100, i * 100 * kMicro);
  }
  const auto out = run_all(model);
  ASSERT_EQ(out.size(), static_cast<std::size_t>(kPackets));
  double sum = 0;
  double squares = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i].id, i) << "reordered";
    const double extra =
        static_cast<double>(out[i].at - static_cast<Nanos>(i) * 100 * kMicro - 40 * kMilli);
    sum += extra;
    squares += extra * extra;
  }
  const double mean = sum / kPackets;
  const double sd = std::sqrt(squares / kPackets - mean * mean);
  // A correlated process barely needs the clamp: the spread stays near sigma.
  EXPECT_GT(sd, 2.5 * kMilli);
  EXPECT_LT(sd, 7.0 * kMilli);
  EXPECT_LT(std::abs(mean), 3.0 * kMilli);
}

TEST(LinkModel, ReorderHoldsPacketsBackSoOthersOvertake) {
  LinkModel model(2, 7);
  model.set_link(0, 1,
                 LinkParams{.delay = 10 * kMilli, .reorder = 0.05, .reorder_gap = 2 * kMilli});
  constexpr int kPackets = 20'000;
  for (int i = 0; i < kPackets; ++i) {
    model.submit(static_cast<LinkModel::PacketId>(i), 0, 1, 100, i * 100 * kMicro);
  }
  const auto out = run_all(model);
  ASSERT_EQ(out.size(), static_cast<std::size_t>(kPackets));
  const auto held = model.link_counters(0, 1).reordered;
  const double sigma = std::sqrt(kPackets * 0.05 * 0.95);
  EXPECT_NEAR(static_cast<double>(held), kPackets * 0.05, 4 * sigma);
  std::size_t late = 0;  // packets delivered after a higher id
  LinkModel::PacketId highest = 0;
  for (const auto& r : out) {
    if (r.id < highest) {
      ++late;
      EXPECT_EQ(r.at, static_cast<Nanos>(r.id) * 100 * kMicro + 12 * kMilli);
    }
    highest = std::max(highest, r.id);
  }
  EXPECT_EQ(late, held);  // every held packet is overtaken (gap > spacing)
}

TEST(LinkModel, LossIsWithinTheBinomialInterval) {
  LinkModel model(2, 3);
  model.set_link(0, 1, LinkParams{.loss = 0.01});
  constexpr int kPackets = 1'000'000;
  int lost = 0;
  for (int i = 0; i < kPackets; ++i) {
    if (model.submit(0, 0, 1, 100, i) == LinkModel::Verdict::kLost) {
      ++lost;
    }
  }
  const double sigma = std::sqrt(kPackets * 0.01 * 0.99);
  EXPECT_NEAR(lost, kPackets * 0.01, 3.3 * sigma);  // 99.9 % two-sided
  EXPECT_EQ(model.link_counters(0, 1).loss_drops, static_cast<std::uint64_t>(lost));
  EXPECT_EQ(model.link_counters(1, 0).packets, 0u);
}

TEST(LinkModel, SameSeedSameDrops) {
  auto drops = [](std::uint64_t seed) {
    LinkModel model(2, seed);
    model.set_link(0, 1, LinkParams{.loss = 0.3});
    std::vector<bool> lost;
    for (int i = 0; i < 100; ++i) {
      lost.push_back(model.submit(0, 0, 1, 100, i) == LinkModel::Verdict::kLost);
    }
    return lost;
  };
  EXPECT_EQ(drops(5), drops(5));
  EXPECT_NE(drops(5), drops(6));
}

}  // namespace
}  // namespace nyx::linkemu
