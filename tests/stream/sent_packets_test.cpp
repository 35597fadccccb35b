#include "stream/detail/sent_packets.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace nyx::stream::detail {
namespace {

using namespace std::chrono_literals;

void send(SentPackets& sent, bool eliciting, std::uint32_t size = 100) {
  SentPacket& p = sent.prepare();
  p.size = size;
  p.time_sent = Nanos{static_cast<std::int64_t>(sent.next_pn())};
  p.state = eliciting ? SentPacket::kInFlight : SentPacket::kDone;
  sent.commit();
}

std::vector<std::uint64_t> acknowledge(SentPackets& sent, std::uint64_t lo, std::uint64_t hi) {
  std::vector<std::uint64_t> pns;
  sent.acknowledge(lo, hi, [&](std::uint64_t pn, SentPacket& p) {
    pns.push_back(pn);
    p.state = SentPacket::kDone;
  });
  return pns;
}

std::vector<std::uint64_t> unacked_below(SentPackets& sent, std::uint64_t end) {
  std::vector<std::uint64_t> pns;
  sent.for_each_unacked_below(end, [&](std::uint64_t pn, SentPacket&) { pns.push_back(pn); });
  return pns;
}

TEST(SentPackets, AcknowledgesOnlyPacketsInFlightAndOnlyOnce) {
  SentPackets sent;
  for (int i = 0; i < 6; ++i) {
    send(sent, i != 2);
  }
  EXPECT_EQ(acknowledge(sent, 1, 3), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(acknowledge(sent, 0, 4), (std::vector<std::uint64_t>{0, 4}));
  EXPECT_EQ(unacked_below(sent, 6), (std::vector<std::uint64_t>{5}));
}

TEST(SentPackets, LossCandidatesSkipAcknowledgedPackets) {
  SentPackets sent;
  for (int i = 0; i < 5; ++i) {
    send(sent, true);
  }
  acknowledge(sent, 2, 2);
  EXPECT_EQ(unacked_below(sent, 4), (std::vector<std::uint64_t>{0, 1, 3}));
}

TEST(SentPackets, GrowsPastTheRingAndKeepsOldPackets) {
  SentPackets sent;
  for (int i = 0; i < 1000; ++i) {
    send(sent, true, static_cast<std::uint32_t>(i));
  }
  std::uint64_t sizes = 0;
  std::size_t count = 0;
  sent.for_each_unacked_below(1000, [&](std::uint64_t pn, SentPacket& p) {
    EXPECT_EQ(p.size, pn);
    sizes += p.size;
    ++count;
  });
  EXPECT_EQ(count, 1000u);
  EXPECT_EQ(sizes, 999u * 1000u / 2);
}

TEST(SentPackets, PopDoneForgetsTheSettledPrefix) {
  SentPackets sent;
  for (int i = 0; i < 4; ++i) {
    send(sent, true);
  }
  acknowledge(sent, 0, 1);
  acknowledge(sent, 3, 3);
  sent.pop_done();
  // Packet 0 and 1 are forgotten; acknowledging them again finds nothing.
  EXPECT_TRUE(acknowledge(sent, 0, 1).empty());
  EXPECT_EQ(unacked_below(sent, 4), (std::vector<std::uint64_t>{2}));
}

}  // namespace
}  // namespace nyx::stream::detail
