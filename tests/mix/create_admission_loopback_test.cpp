// CREATE floods over real links (Noise over UDP on loopback addresses),
// played by an attacker who builds valid one-hop CREATEs as fast as it can:
// admission (proposal 0002, section 9) holds each neighbour group to its
// bucket before the relay does any Diffie-Hellman, and the node-wide bucket
// caps the sum. The relays' clock stands still unless a test moves it, so
// the counts are exact.

#include <chrono>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "mix/support/loopback_network.hpp"

namespace nyx::mix::testing {
namespace {

using namespace std::chrono_literals;
using State = Circuit::State;

class CreateFlood : public LoopbackTest {
 protected:
  // Node 2 binds 127.0.0.2, every other node 127.0.0.1.
  void start_with(int count, const CreateLimits& limits) {
    LoopbackOptions options;
    options.relay_clock = &manual_clock;
    options.relay_config = [limits](int) {
      RelayConfig config;
      config.create_limits = limits;
      return config;
    };
    options.address = [](int index) { return index == 2 ? "127.0.0.2" : "127.0.0.1"; };
    start(count, options);
  }

  // `n` one-hop CREATEs from node `from` to node `to`, polled until `to`
  // answered each (CREATED or DESTROY).
  void flood(int from, int to, int n) {
    const std::uint64_t answered_before = answered(to);
    for (int i = 0; i < n; ++i) {
      auto circuit = node(from).relay->create_circuit(std::vector{node(to).hop()});
      ASSERT_TRUE(circuit.has_value());
      circuits.push_back(std::move(*circuit));
    }
    ASSERT_TRUE(
        run_until([&] { return answered(to) == answered_before + static_cast<std::uint64_t>(n); }));
  }

  std::uint64_t answered(int index) {
    const RelayCounters c = node(index).relay->counters();
    return c.creates_accepted + c.creates_rejected + c.creates_replay + c.creates_rate_limited +
           c.creates_overloaded;
  }

  // CREATEs that reached the onion keys: one Diffie-Hellman at least each.
  std::uint64_t opened(int index) {
    const RelayCounters c = node(index).relay->counters();
    return c.creates_accepted + c.creates_rejected + c.creates_replay;
  }

  std::vector<std::unique_ptr<Circuit>> circuits;
};

TEST_F(CreateFlood, OneAddressIsHeldToTheBurstThenTheRateAndCostsNoDiffieHellman) {
  start_with(3, CreateLimits{});  // the defaults: 3/s, a burst of 90
  flood(0, 1, 120);
  const RelayCounters c = node(1).relay->counters();
  EXPECT_EQ(c.creates_accepted, 90u);
  EXPECT_EQ(c.creates_rate_limited, 30u);
  EXPECT_EQ(opened(1), 90u);
  EXPECT_EQ(node(1).ends.size(), 90u);
  ASSERT_TRUE(run_until([&] { return circuits.back()->state() == State::kClosed; }));
  EXPECT_EQ(circuits.back()->close_reason(), DestroyReason::kCreateFailed);  // keyless: unreadable

  // Another address is another group: its circuit opens.
  auto honest = node(2).relay->create_circuit(std::vector{node(1).hop()});
  ASSERT_TRUE(honest.has_value());
  Circuit& circuit = **honest;
  ASSERT_TRUE(run_until([&] { return circuit.state() != State::kBuilding; }));
  EXPECT_EQ(circuit.state(), State::kOpen);

  // One second later the flooder has three more.
  manual_clock.advance(1s);
  flood(0, 1, 10);
  EXPECT_EQ(node(1).relay->counters().creates_accepted, 90u + 1u + 3u);
  EXPECT_EQ(node(1).relay->counters().creates_rate_limited, 30u + 7u);
  EXPECT_EQ(opened(1), 94u);
}

TEST_F(CreateFlood, TheLinkTellsTheRelayWhereEachNeighbourIs) {
  start_with(3, CreateLimits{});
  build({1});
  auto address = node(1).cell_link->peer_address(node(0).keys.descriptor.link_key);
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(*address, asio::ip::make_address("127.0.0.1"));
  auto from_two = node(2).relay->create_circuit(std::vector{node(1).hop()});
  ASSERT_TRUE(from_two.has_value());
  ASSERT_TRUE(run_until([&] { return (*from_two)->state() != State::kBuilding; }));
  address = node(1).cell_link->peer_address(node(2).keys.descriptor.link_key);
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(*address, asio::ip::make_address("127.0.0.2"));
}

TEST_F(CreateFlood, AListedRelayIsLimitedByItsOwnBucket) {
  CreateLimits limits;
  limits.burst_per_address = 5;
  limits.burst_per_relay = 20;
  start_with(4, limits);
  node(1).relay->set_relay_links({node(0).keys.descriptor.link_key});
  flood(0, 1, 30);
  EXPECT_EQ(node(1).relay->counters().creates_accepted, 20u);
  EXPECT_EQ(node(1).relay->counters().creates_rate_limited, 10u);
  // Node 3 shares node 0's address but is not listed: the address's bucket,
  // which the listed relay did not touch.
  flood(3, 1, 8);
  EXPECT_EQ(node(1).relay->counters().creates_accepted, 25u);
  EXPECT_EQ(node(1).relay->counters().creates_rate_limited, 13u);
  EXPECT_EQ(opened(1), 25u);
}

TEST_F(CreateFlood, TheNodeWideBucketCapsTheSumOfTheGroups) {
  CreateLimits limits;
  limits.burst_per_address = 10;
  limits.burst_max = 15;
  start_with(3, limits);
  flood(0, 1, 10);
  flood(2, 1, 10);
  const RelayCounters c = node(1).relay->counters();
  EXPECT_EQ(c.creates_accepted, 15u);
  EXPECT_EQ(c.creates_overloaded, 5u);
  EXPECT_EQ(c.creates_rate_limited, 0u);
  EXPECT_EQ(opened(1), 15u);
}

}  // namespace
}  // namespace nyx::mix::testing
