#include "mix/circuit_pool.hpp"

#include <array>
#include <cstdint>

#include <gtest/gtest.h>

#include "mix/support/memory_network.hpp"

namespace nyx::mix {
namespace {

using testing::MemoryNetwork;
using testing::SeededRandom;

struct PoolFixture {
  explicit PoolFixture(CircuitPoolConfig config) : pool(net.relay(0), paths, net.clock(), config) {
    std::vector<document::NodeDescriptor> nodes;
    for (int i = 1; i < 6; ++i) {
      nodes.push_back(net.descriptor(i));
    }
    pool.set_nodes(std::move(nodes));
  }
  MemoryNetwork net{6};
  SeededRandom random{5};
  PathSelector paths{random};
  CircuitPool pool;
};

TEST(CircuitPool, KeepsCircuitsBuiltAheadOfDemand) {
  PoolFixture f({.prebuilt = 2});
  ASSERT_TRUE(f.pool.maintain().has_value());
  EXPECT_EQ(f.pool.size(), 2u);
  auto building = f.pool.acquire("example.org:80");
  ASSERT_TRUE(building.has_value());
  EXPECT_EQ(*building, nullptr);
  f.net.run();
  auto circuit = f.pool.acquire("example.org:80");
  ASSERT_TRUE(circuit.has_value());
  EXPECT_EQ((*circuit)->state(), Circuit::State::kOpen);
  // Port 25 is refused by every test exit's policy: no path, not a wait.
  EXPECT_EQ(f.pool.acquire("mail.example.org:25").error().category, ErrorCategory::kNotFound);
}

TEST(CircuitPool, RetiresAfterMaxStreamsAndClosesWhenReleased) {
  PoolFixture f({.prebuilt = 1, .max_streams = 2});
  ASSERT_TRUE(f.pool.maintain().has_value());
  f.net.run();
  auto first = f.pool.acquire("a.example:443");
  auto second = f.pool.acquire("a.example:443");
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*first, *second);
  ASSERT_TRUE(f.pool.maintain().has_value());  // retired: a fresh one is built
  EXPECT_EQ(f.pool.size(), 2u);
  f.net.run();
  auto third = f.pool.acquire("a.example:443");
  ASSERT_TRUE(third.has_value());
  EXPECT_NE(*third, *first);
  f.pool.release(*first);
  f.pool.release(*second);
  ASSERT_TRUE(f.pool.maintain().has_value());
  EXPECT_EQ(f.pool.size(), 1u);
}

TEST(CircuitPool, RetiresAfterMaxAge) {
  PoolFixture f({.prebuilt = 1, .max_age = std::chrono::minutes(1)});
  ASSERT_TRUE(f.pool.maintain().has_value());
  f.net.run();
  auto before = f.pool.acquire("a.example:80");
  ASSERT_TRUE(before.has_value());
  f.net.clock().advance(std::chrono::minutes(2));
  ASSERT_TRUE(f.pool.maintain().has_value());  // retired, but a stream still uses it
  f.net.run();
  EXPECT_EQ(f.pool.size(), 2u);
  EXPECT_EQ((*before)->state(), Circuit::State::kOpen);
  auto after = f.pool.acquire("a.example:80");
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(*after, *before);
  f.pool.release(*before);
  ASSERT_TRUE(f.pool.maintain().has_value());
  EXPECT_EQ(f.pool.size(), 1u);
}

// CELL_SOFT: a circuit that has carried cell_soft cells takes no new stream
// (the one on it runs on), long before the relays' cap would end it.
TEST(CircuitPool, RetiresAfterCellSoftCellsAndKeepsTheStreamOnIt) {
  PoolFixture f({.prebuilt = 1, .cell_soft = 4});
  ASSERT_TRUE(f.pool.maintain().has_value());
  f.net.run();
  auto used = f.pool.acquire("a.example:80");
  ASSERT_TRUE(used.has_value());
  ASSERT_NE(*used, nullptr);
  const std::array<std::uint8_t, 16> data{};
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ((*used)->send(data), SendOutcome::kSent);
  }
  f.net.run();
  EXPECT_EQ((*used)->cells_carried(), 3u);
  auto same = f.pool.acquire("a.example:80");  // 3 < 4: still taking streams
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(*same, *used);
  f.pool.release(*same);
  ASSERT_EQ((*used)->send(data), SendOutcome::kSent);
  f.net.run();
  ASSERT_TRUE(f.pool.maintain().has_value());  // retired: a fresh one is built
  EXPECT_EQ(f.pool.size(), 2u);
  f.net.run();
  auto fresh = f.pool.acquire("a.example:80");
  ASSERT_TRUE(fresh.has_value());
  ASSERT_NE(*fresh, nullptr);
  EXPECT_NE(*fresh, *used);
  EXPECT_EQ((*used)->state(), Circuit::State::kOpen);  // its stream is not cut
  EXPECT_EQ((*used)->send(data), SendOutcome::kSent);
  f.pool.release(*used);
  ASSERT_TRUE(f.pool.maintain().has_value());
  EXPECT_EQ(f.pool.size(), 1u);
}

TEST(CircuitPool, TellsTheOwnerBeforeDestroyingACircuitAndListsItsPath) {
  PoolFixture f({.prebuilt = 1, .max_streams = 1});
  std::vector<const Circuit*> retired;
  f.pool.set_retire_handler([&](Circuit& circuit) {
    // Still alive here: the owner may detach from it.
    EXPECT_EQ(circuit.state(), Circuit::State::kOpen);
    retired.push_back(&circuit);
  });
  ASSERT_TRUE(f.pool.maintain().has_value());
  f.net.run();
  ASSERT_EQ(f.pool.circuits().size(), 1u);
  EXPECT_EQ(f.pool.circuits()[0].hops.size(), kDefaultHops);
  auto used = f.pool.acquire("a.example:80");
  ASSERT_TRUE(used.has_value());
  EXPECT_TRUE(f.pool.circuits()[0].retired);  // its one stream is taken
  EXPECT_EQ(f.pool.circuits()[0].streams_open, 1u);
  ASSERT_TRUE(f.pool.maintain().has_value());
  EXPECT_TRUE(retired.empty());  // the stream still runs
  f.pool.release(*used);
  ASSERT_TRUE(f.pool.maintain().has_value());
  ASSERT_EQ(retired.size(), 1u);
  EXPECT_EQ(retired[0], *used);
}

TEST(CircuitPool, AStalledBuildGetsAnotherPathBesideItAfterTheHedgeDelay) {
  PoolFixture f({.prebuilt = 0, .max_building = 3});
  // Every cell is lost: each build stalls, as one through a dead relay does.
  f.net.set_filter([](int, int, Cell&) { return false; });
  const Nanos hedge = f.pool.hedge_delay();  // no build time known yet: hedge_max
  EXPECT_EQ(hedge, CircuitPoolConfig{}.hedge_max);
  ASSERT_EQ(*f.pool.acquire("a.example:80"), nullptr);
  ASSERT_EQ(*f.pool.acquire("a.example:80"), nullptr);
  EXPECT_EQ(f.pool.size(), 1u);  // young: waited for
  f.net.clock().advance(hedge - std::chrono::milliseconds(1));
  ASSERT_EQ(*f.pool.acquire("a.example:80"), nullptr);
  EXPECT_EQ(f.pool.size(), 1u);
  f.net.clock().advance(std::chrono::milliseconds(1));
  ASSERT_EQ(*f.pool.acquire("a.example:80"), nullptr);
  EXPECT_EQ(f.pool.size(), 2u);  // a second path beside the stalled one
  ASSERT_EQ(*f.pool.acquire("a.example:80"), nullptr);
  EXPECT_EQ(f.pool.size(), 2u);
  f.net.clock().advance(hedge);
  ASSERT_EQ(*f.pool.acquire("a.example:80"), nullptr);
  f.net.clock().advance(hedge);
  ASSERT_EQ(*f.pool.acquire("a.example:80"), nullptr);
  EXPECT_EQ(f.pool.size(), 3u);  // max_building
  f.net.clock().advance(hedge);
  ASSERT_EQ(*f.pool.acquire("a.example:80"), nullptr);
  EXPECT_EQ(f.pool.size(), 3u);
}

TEST(CircuitPool, AHedgedPathThatOpensServesWhileTheStalledOneStillBuilds) {
  PoolFixture f({.prebuilt = 0});
  // The first build's cells are lost; the hedged one's get through.
  bool lossy = true;
  f.net.set_filter([&](int, int, Cell&) { return !lossy; });
  ASSERT_EQ(*f.pool.acquire("a.example:80"), nullptr);
  f.net.run();
  lossy = false;
  f.net.clock().advance(f.pool.hedge_delay());
  ASSERT_EQ(*f.pool.acquire("a.example:80"), nullptr);
  ASSERT_EQ(f.pool.size(), 2u);
  f.net.run();
  auto circuit = f.pool.acquire("a.example:80");
  ASSERT_TRUE(circuit.has_value());
  ASSERT_NE(*circuit, nullptr);
  EXPECT_EQ(*circuit, f.pool.circuits()[1].circuit.get());
  EXPECT_EQ(f.pool.circuits()[0].circuit->state(), Circuit::State::kBuilding);
}

TEST(CircuitPool, TheHedgeDelayIsThreeMediansOfRecentBuildsWithinItsBounds) {
  using std::chrono::milliseconds;
  PoolFixture f({.hedge_min = milliseconds(500), .hedge_max = milliseconds(3000)});
  for (int i = 0; i < 16; ++i) {
    f.pool.record_build_time(milliseconds(10));
  }
  EXPECT_EQ(f.pool.hedge_delay(), milliseconds(500));  // 30 ms: the floor
  for (int i = 0; i < 9; ++i) {
    f.pool.record_build_time(milliseconds(400));  // the last 16: 7 fast, 9 slow
  }
  EXPECT_EQ(f.pool.hedge_delay(), milliseconds(1200));
  for (int i = 0; i < 16; ++i) {
    f.pool.record_build_time(milliseconds(2000));
  }
  EXPECT_EQ(f.pool.hedge_delay(), milliseconds(3000));  // 6 s: the ceiling
  f.pool.record_build_time(milliseconds(1));            // one fast outlier moves nothing
  EXPECT_EQ(f.pool.hedge_delay(), milliseconds(3000));
}

}  // namespace
}  // namespace nyx::mix
