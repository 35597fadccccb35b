// LoopbackChannel: what a node's request to itself rides on. Datagrams
// arrive whole, in order, on a later turn; the end that is left is told
// when the other goes, once, and never after it went itself.
#include "daemon/loopback_channel.hpp"

#include <cstdint>
#include <memory>
#include <vector>

#include <asio/io_context.hpp>
#include <gtest/gtest.h>

namespace nyx::daemon {
namespace {

struct Collector final : DatagramReceiver {
  void on_datagram(Bytes datagram) override {
    received.emplace_back(datagram.begin(), datagram.end());
  }
  std::vector<std::vector<std::uint8_t>> received;
};

class LoopbackChannelTest : public ::testing::Test {
 protected:
  asio::io_context io;
  std::unique_ptr<LoopbackChannel> a;
  std::unique_ptr<LoopbackChannel> b;
  Collector at_a;
  Collector at_b;

  void SetUp() override {
    auto ends = LoopbackChannel::pair(io.get_executor(), 64);
    a = std::move(ends.first);
    b = std::move(ends.second);
    a->set_receiver(&at_a);
    b->set_receiver(&at_b);
  }
};

TEST_F(LoopbackChannelTest, DatagramsArriveWholeInOrderOnALaterTurn) {
  const std::vector<std::uint8_t> first{1, 2, 3};
  const std::vector<std::uint8_t> second{4};
  EXPECT_EQ(a->send(first), SendOutcome::kSent);
  EXPECT_EQ(a->send(second), SendOutcome::kSent);
  EXPECT_EQ(b->send(second), SendOutcome::kSent);
  EXPECT_TRUE(at_b.received.empty());  // not within send
  io.poll();
  EXPECT_EQ(at_b.received, (std::vector<std::vector<std::uint8_t>>{first, second}));
  EXPECT_EQ(at_a.received, (std::vector<std::vector<std::uint8_t>>{second}));
}

TEST_F(LoopbackChannelTest, ADatagramPastTheSizeIsRefused) {
  EXPECT_EQ(a->max_datagram_size(), 64u);
  EXPECT_EQ(a->send(std::vector<std::uint8_t>(65)), SendOutcome::kTooLarge);
  io.poll();
  EXPECT_TRUE(at_b.received.empty());
}

TEST_F(LoopbackChannelTest, WhenOneEndGoesTheOtherIsClosedAndToldOnce) {
  int told = 0;
  b->set_peer_closed_handler([&] { ++told; });
  EXPECT_EQ(a->send(std::vector<std::uint8_t>{9}), SendOutcome::kSent);
  a.reset();
  EXPECT_EQ(told, 0);  // on a later turn
  io.poll();
  EXPECT_EQ(told, 1);
  EXPECT_TRUE(at_b.received.empty());  // what was on its way is dropped, as a DESTROY drops it
  EXPECT_EQ(b->send(std::vector<std::uint8_t>{1}), SendOutcome::kClosed);
  b.reset();
  io.poll();
  EXPECT_EQ(told, 1);
}

TEST_F(LoopbackChannelTest, AnEndThatGoesFirstIsNeverToldAfterwards) {
  int told = 0;
  a->set_peer_closed_handler([&] { ++told; });
  b->set_peer_closed_handler([&] { ++told; });
  a.reset();
  b.reset();
  io.poll();
  EXPECT_EQ(told, 0);  // b went before it could be told; a went first
}

TEST_F(LoopbackChannelTest, TheHandlerMayDestroyTheEndThatHoldsIt) {
  // As the directory server does: the session erased, its channel with it.
  b->set_peer_closed_handler([&] { b.reset(); });
  a.reset();
  io.poll();
  EXPECT_EQ(b, nullptr);
}

}  // namespace
}  // namespace nyx::daemon
