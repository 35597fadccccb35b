#include "mix/circuit_pool.hpp"

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

}  // namespace
}  // namespace nyx::mix
