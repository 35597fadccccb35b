// UdpEndpoint over real loopback sockets.

#include "transport/udp_endpoint.hpp"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "support/run_until.hpp"

namespace nyx::transport {
namespace {

using nyx::test::run_until;

UdpEndpointConfig loopback_config() {
  UdpEndpointConfig config;
  config.bind = {asio::ip::make_address("127.0.0.1"), 0};
  return config;
}

TEST(UdpEndpointTest, BatchesArriveIntactAndInOrder) {
  asio::io_context io;
  auto a = UdpEndpoint::open(io, loopback_config());
  auto b = UdpEndpoint::open(io, loopback_config());
  ASSERT_TRUE(a && b);
  std::vector<std::uint32_t> seen;
  std::size_t batches = 0;
  (*b)->start([&](std::span<const UdpDatagram> batch) {
    ++batches;
    for (const auto& d : batch) {
      ASSERT_EQ(d.data.size(), 1056u);
      EXPECT_EQ(d.from->port(), (*a)->local_endpoint().port());
      seen.push_back(load_be32(d.data.data()));
      for (std::size_t i = 4; i < d.data.size(); ++i) {
        ASSERT_EQ(d.data[i], static_cast<std::uint8_t>(i));
      }
    }
  });
  constexpr std::uint32_t kCount = 500;
  for (std::uint32_t n = 0; n < kCount; ++n) {
    auto slot = (*a)->prepare_send((*b)->local_endpoint());
    ASSERT_FALSE(slot.empty());
    store_be32(slot.data(), n);
    for (std::size_t i = 4; i < 1056; ++i) {
      slot[i] = static_cast<std::uint8_t>(i);
    }
    (*a)->commit_send(1056);
  }
  (*a)->flush();
  ASSERT_TRUE(run_until(io, [&] { return seen.size() == kCount; }));
  for (std::uint32_t n = 0; n < kCount; ++n) {
    EXPECT_EQ(seen[n], n);
  }
  EXPECT_LT(batches, kCount);  // recvmmsg delivered more than one at a time
  EXPECT_EQ((*a)->counters().packets_sent, kCount);
  EXPECT_LT((*a)->counters().batches_sent, kCount);
  EXPECT_EQ((*b)->counters().bytes_received, kCount * 1056u);
}

TEST(UdpEndpointTest, FullSendRingRefusesAndCounts) {
  asio::io_context io;
  auto config = loopback_config();
  config.send_ring = 4;
  auto a = UdpEndpoint::open(io, config);
  ASSERT_TRUE(a);
  const asio::ip::udp::endpoint to{asio::ip::make_address("127.0.0.1"), 9};
  for (int i = 0; i < 4; ++i) {
    ASSERT_FALSE((*a)->prepare_send(to).empty());
    (*a)->commit_send(100);
  }
  EXPECT_TRUE((*a)->prepare_send(to).empty());
  EXPECT_EQ((*a)->counters().dropped_send_ring_full, 1u);
}

TEST(UdpEndpointTest, WithoutGsoStillDelivers) {
  asio::io_context io;
  auto config = loopback_config();
  config.enable_gso = false;
  auto a = UdpEndpoint::open(io, config);
  auto b = UdpEndpoint::open(io, loopback_config());
  ASSERT_TRUE(a && b);
  EXPECT_FALSE((*a)->gso_enabled());
  std::size_t got = 0;
  (*b)->start([&](std::span<const UdpDatagram> batch) { got += batch.size(); });
  for (int i = 0; i < 100; ++i) {
    auto slot = (*a)->prepare_send((*b)->local_endpoint());
    ASSERT_FALSE(slot.empty());
    (*a)->commit_send(1056);
  }
  (*a)->flush();
  ASSERT_TRUE(run_until(io, [&] { return got == 100; }));
}

TEST(UdpEndpointTest, DualStackSocketReachesIpv4Peers) {
  asio::io_context io;
  UdpEndpointConfig v6;
  v6.bind = {asio::ip::address_v6::any(), 0};
  auto a = UdpEndpoint::open(io, v6);
  auto b = UdpEndpoint::open(io, loopback_config());
  ASSERT_TRUE(a && b);
  std::size_t got = 0;
  (*b)->start([&](std::span<const UdpDatagram> batch) { got += batch.size(); });
  auto slot = (*a)->prepare_send((*b)->local_endpoint());
  ASSERT_FALSE(slot.empty());
  (*a)->commit_send(1056);
  (*a)->flush();
  ASSERT_TRUE(run_until(io, [&] { return got == 1; }));
}

}  // namespace
}  // namespace nyx::transport
