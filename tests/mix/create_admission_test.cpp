#include "mix/create_admission.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "mix/cell.hpp"
#include "mix/onion_create.hpp"
#include "mix/relay.hpp"
#include "mix/support/memory_network.hpp"

namespace nyx::mix {
namespace {

using namespace std::chrono_literals;
using Verdict = CreateAdmission::Verdict;

asio::ip::address ip(const char* text) { return asio::ip::make_address(text); }

transport::PeerKey key(std::uint8_t n) {
  transport::PeerKey k{};
  k.fill(n);
  return k;
}

NeighbourGroup group_of(const char* address) { return address_group(ip(address)); }

TEST(NeighbourGroups, IPv4IsOneGroupPerAddressMappedOrNot) {
  EXPECT_NE(group_of("192.0.2.1"), group_of("192.0.2.2"));
  EXPECT_EQ(group_of("192.0.2.1"), group_of("::ffff:192.0.2.1"));
  // Mapped addresses share their first 64 bits: as IPv6 /64s they would all
  // be one group.
  EXPECT_NE(group_of("::ffff:192.0.2.1"), group_of("::ffff:198.51.100.1"));
}

TEST(NeighbourGroups, IPv6IsOneGroupPerSlash64) {
  EXPECT_EQ(group_of("2001:db8:1:2::1"), group_of("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  EXPECT_NE(group_of("2001:db8:1:2::1"), group_of("2001:db8:1:3::1"));
  // An IPv6 /64 whose bytes begin like an IPv4 address is not that address.
  EXPECT_NE(group_of("c000:0201::"), group_of("192.0.2.1"));
}

TEST(NeighbourGroups, LinksWithoutAnAddressShareOneGroup) {
  EXPECT_NE(address_group(std::nullopt), group_of("0.0.0.0"));
  EXPECT_NE(address_group(std::nullopt), group_of("::"));
}

TEST(CreateAdmission, FreshLinkKeysWithoutAnAddressShareOneBucket) {
  ManualClock clock(1s);
  CreateLimits limits;
  limits.rate_per_address = 3;
  limits.burst_per_address = 5;
  CreateAdmission admission(clock, limits);
  int admitted = 0;
  for (std::uint8_t n = 1; n <= 20; ++n) {
    admitted += admission.admit(key(n), std::nullopt) == Verdict::kAdmitted ? 1 : 0;
  }
  EXPECT_EQ(admitted, 5);
}

CreateLimits small_limits() {
  CreateLimits limits;
  limits.rate_per_address = 3;
  limits.burst_per_address = 5;
  limits.rate_per_relay = 10;
  limits.burst_per_relay = 8;
  limits.rate_max = 100;
  limits.burst_max = 1000;
  return limits;
}

// Admits from one neighbour until refused; the admitted count.
int admit_all(CreateAdmission& admission, const transport::PeerKey& from,
              const std::optional<asio::ip::address>& address, Verdict* refused = nullptr) {
  int admitted = 0;
  for (;;) {
    const Verdict verdict = admission.admit(from, address);
    if (verdict != Verdict::kAdmitted) {
      if (refused != nullptr) {
        *refused = verdict;
      }
      return admitted;
    }
    ++admitted;
  }
}

TEST(CreateAdmission, OneAddressGetsItsBurstThenItsRate) {
  ManualClock clock(1s);
  CreateAdmission admission(clock, small_limits());
  Verdict refused{};
  // Fresh link keys from one address (a client's key is new for every link)
  // share the address's bucket.
  EXPECT_EQ(admission.admit(key(1), ip("192.0.2.1")), Verdict::kAdmitted);
  EXPECT_EQ(admit_all(admission, key(2), ip("::ffff:192.0.2.1"), &refused), 4);
  EXPECT_EQ(refused, Verdict::kRateLimited);
  // Another address is untouched.
  EXPECT_EQ(admit_all(admission, key(3), ip("192.0.2.2")), 5);
  clock.advance(1s);
  EXPECT_EQ(admit_all(admission, key(4), ip("192.0.2.1")), 3);
}

TEST(CreateAdmission, AListedRelayHasItsOwnBucketByName) {
  ManualClock clock(1s);
  CreateAdmission admission(clock, small_limits());
  admission.set_relay_links({key(9)});
  EXPECT_EQ(admit_all(admission, key(9), ip("192.0.2.1")), 8);
  // A client behind the relay's address has the address's bucket, untouched.
  EXPECT_EQ(admit_all(admission, key(1), ip("192.0.2.1")), 5);
  // Unlisted again at the next directory: the relay is an address like any other.
  admission.set_relay_links({});
  EXPECT_EQ(admit_all(admission, key(9), ip("192.0.2.1")), 0);
}

TEST(CreateAdmission, TheNodeWideBucketCapsTheSumOfTheGroups) {
  ManualClock clock(1s);
  CreateLimits limits = small_limits();
  limits.burst_max = 12;
  CreateAdmission admission(clock, limits);
  Verdict refused{};
  int admitted = 0;
  for (const char* address : {"192.0.2.1", "192.0.2.2", "2001:db8::1"}) {
    admitted += admit_all(admission, key(1), ip(address), &refused);
  }
  EXPECT_EQ(admitted, 12);
  EXPECT_EQ(refused, Verdict::kOverloaded);
  // The group pays for what it sent: 2 admitted and 3 refused use its 5.
  EXPECT_EQ(admission.admit(key(1), ip("2001:db8::1")), Verdict::kOverloaded);
  EXPECT_EQ(admission.admit(key(1), ip("2001:db8::1")), Verdict::kOverloaded);
  EXPECT_EQ(admission.admit(key(1), ip("2001:db8::1")), Verdict::kRateLimited);
}

TEST(CreateAdmission, AGroupOutOfTokensTakesNothingFromTheNodeWideBucket) {
  ManualClock clock(1s);
  CreateLimits limits = small_limits();
  limits.burst_max = 6;
  CreateAdmission admission(clock, limits);
  EXPECT_EQ(admit_all(admission, key(1), ip("192.0.2.1")), 5);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(admission.admit(key(1), ip("192.0.2.1")), Verdict::kRateLimited);
  }
  EXPECT_EQ(admission.admit(key(1), ip("192.0.2.2")), Verdict::kAdmitted);
}

// A CREATE_DIR costs no Diffie-Hellman: it takes a token from its group and
// none from the node-wide bucket (proposal 0002, section 9).
TEST(CreateAdmission, ADirectoryCircuitTakesAGroupTokenOnly) {
  ManualClock clock(1s);
  CreateLimits limits = small_limits();
  limits.burst_max = 3;
  CreateAdmission admission(clock, limits);
  int admitted = 0;
  for (const char* address : {"192.0.2.1", "192.0.2.2", "2001:db8::1"}) {
    for (;;) {
      const Verdict verdict = admission.admit_directory(key(1), ip(address));
      if (verdict != Verdict::kAdmitted) {
        EXPECT_EQ(verdict, Verdict::kRateLimited);
        break;
      }
      ++admitted;
    }
  }
  EXPECT_EQ(admitted, 15);  // three groups' bursts, five times the node-wide one
  // The groups' buckets are shared with CREATE; the node-wide one is whole.
  EXPECT_EQ(admission.admit(key(1), ip("192.0.2.1")), Verdict::kRateLimited);
  EXPECT_EQ(admit_all(admission, key(2), ip("192.0.2.9")), 3);
}

// The relay runs the checks in the order of proposal 0002, section 9, and a
// refused CREATE costs no Diffie-Hellman: every CREATE that reached the
// onion keys is counted accepted, rejected or replay.
TEST(RelayAdmission, AFloodIsRefusedBeforeAnyOnionKeyIsTried) {
  RelayConfig config;
  config.create_limits = small_limits();
  testing::MemoryNetwork net(3, config);
  std::vector<std::unique_ptr<Circuit>> circuits;
  for (int i = 0; i < 20; ++i) {
    auto circuit = net.relay(0).create_circuit(net.hops({1}));
    ASSERT_TRUE(circuit.has_value());
    circuits.push_back(std::move(*circuit));
  }
  net.run();
  const RelayCounters c = net.relay(1).counters();
  EXPECT_EQ(c.creates_accepted, 5u);
  EXPECT_EQ(c.creates_rate_limited, 15u);
  EXPECT_EQ(c.creates_accepted + c.creates_rejected + c.creates_replay, 5u);
  EXPECT_EQ(circuits[0]->state(), Circuit::State::kOpen);
  EXPECT_EQ(circuits[19]->state(), Circuit::State::kClosed);
  // The refusing hop holds no keys, so its DESTROY says nothing the client
  // can read: a failed build.
  EXPECT_EQ(circuits[19]->close_reason(), DestroyReason::kCreateFailed);
  // Another neighbour is another group.
  auto other = net.relay(2).create_circuit(net.hops({1}));
  ASSERT_TRUE(other.has_value());
  net.run();
  EXPECT_EQ((*other)->state(), Circuit::State::kOpen);
}

// A CREATE cell for a one-hop circuit through `hop`.
Cell create_cell(CircuitId id, const OnionHop& hop) {
  auto create = build_create(std::vector{hop});
  EXPECT_TRUE(create.has_value());
  Cell cell{};
  write_cell_header(cell, id, CellCommand::kCreate);
  std::copy(create->payload.begin(), create->payload.end(), cell.begin() + kCellHeaderSize);
  return cell;
}

TEST(RelayAdmission, AFullTableRefusesBeforeTheBucketsAreAsked) {
  RelayConfig config;
  config.create_limits = small_limits();  // a burst of 5
  config.max_circuits = 2;
  testing::MemoryNetwork net(2, config);
  const PeerKey from = net.hop(0).link_key;
  for (CircuitId id = 1; id <= 5; ++id) {
    net.relay(1).handle_cell(from, create_cell(id, net.hop(1)));
  }
  EXPECT_EQ(net.relay(1).counters().creates_accepted, 2u);
  EXPECT_EQ(net.relay(1).counters().creates_rejected, 3u);
  // The refusals took no token: after the two circuits close, the group's
  // remaining 3 admit two more (and the table refuses the third again).
  for (CircuitId id = 1; id <= 2; ++id) {
    net.relay(1).handle_cell(from, make_keyless_destroy_cell(id));
  }
  ASSERT_EQ(net.relay(1).circuit_count(), 0u);
  for (CircuitId id = 6; id <= 8; ++id) {
    net.relay(1).handle_cell(from, create_cell(id, net.hop(1)));
  }
  EXPECT_EQ(net.relay(1).counters().creates_accepted, 4u);
  EXPECT_EQ(net.relay(1).counters().creates_rejected, 4u);
  EXPECT_EQ(net.relay(1).counters().creates_rate_limited, 0u);
}

}  // namespace
}  // namespace nyx::mix
