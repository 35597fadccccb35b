// metrics::CounterDeltas: each publish adds to a registry Counter only what
// its field grew since the last publish, field by field.

#include "core/metrics/counter_deltas.hpp"

#include <cstdint>

#include <gtest/gtest.h>

#include "core/metrics/registry.hpp"

namespace nyx::metrics {
namespace {

struct Tally {
  std::uint64_t sent = 0;
  std::uint64_t dropped = 0;
};

class CounterDeltasTest : public ::testing::Test {
 protected:
  Registry registry_;
  Counter& sent_ = registry_.counter("nyx_test_sent_total", "sent");
  Counter& dropped_ = registry_.counter("nyx_test_dropped_total", "dropped");
  CounterDeltas<Tally, 2> deltas_{{{{&Tally::sent, &sent_}, {&Tally::dropped, &dropped_}}}};
};

TEST_F(CounterDeltasTest, AddsWhatEachFieldGrewSinceTheLastPublish) {
  Tally tally{.sent = 5, .dropped = 1};
  deltas_.publish(tally);
  EXPECT_EQ(sent_.value(), 5u);
  EXPECT_EQ(dropped_.value(), 1u);

  tally.sent = 12;
  deltas_.publish(tally);
  EXPECT_EQ(sent_.value(), 12u);
  EXPECT_EQ(dropped_.value(), 1u);  // unchanged field, nothing added
}

TEST_F(CounterDeltasTest, RepublishingTheSameTotalsAddsNothing) {
  const Tally tally{.sent = 3, .dropped = 4};
  deltas_.publish(tally);
  deltas_.publish(tally);
  EXPECT_EQ(sent_.value(), 3u);
  EXPECT_EQ(dropped_.value(), 4u);
}

TEST_F(CounterDeltasTest, KeepsCountsOthersAddedToTheSameCounter) {
  sent_.inc(100);  // another publisher of the same family
  deltas_.publish(Tally{.sent = 2, .dropped = 0});
  EXPECT_EQ(sent_.value(), 102u);
  EXPECT_EQ(dropped_.value(), 0u);
}

}  // namespace
}  // namespace nyx::metrics
