// Where a Relay says kBlocked to the end that sends: its link queue or the
// circuit's queue is full. The stream layer above keeps the datagram and
// retries on that value, so a full queue must read as pushback, never as a
// closed circuit, and must clear once the relay flushes.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mix/circuit.hpp"
#include "mix/relay.hpp"
#include "mix/support/cell_checks.hpp"
#include "mix/support/memory_network.hpp"

namespace nyx::mix {
namespace {

using testing::bytes_of;
using testing::MemoryNetwork;

std::unique_ptr<Circuit> build(MemoryNetwork& net) {
  auto circuit = net.relay(0).create_circuit(net.hops({1, 2, 3}));
  EXPECT_TRUE(circuit.has_value());
  net.run();
  EXPECT_EQ((*circuit)->state(), Circuit::State::kOpen);
  return std::move(*circuit);
}

// Fills a queue bound of 4 cells, then checks the fifth is pushed back and
// a send after the relay's flush goes through.
void expect_blocked_at_four(RelayConfig config) {
  MemoryNetwork net(4, config);
  auto client = build(net);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(client->send(bytes_of("fits")), SendOutcome::kSent) << i;
  }
  EXPECT_EQ(client->send(bytes_of("one too many")), SendOutcome::kBlocked);
  EXPECT_EQ(net.relay(0).counters().dropped_queue_full, 1u);
  EXPECT_EQ(client->state(), Circuit::State::kOpen);  // pushback, not an end
  net.run();                                          // the relay flushes its queue
  EXPECT_EQ(client->send(bytes_of("again")), SendOutcome::kSent);
}

TEST(RelayBackpressure, AFullLinkQueueIsBlockedUntilTheRelayFlushes) {
  RelayConfig config;
  config.link_queue_cells = 4;
  expect_blocked_at_four(config);
}

TEST(RelayBackpressure, AFullCircuitQueueIsBlockedUntilTheRelayFlushes) {
  RelayConfig config;
  config.circuit_queue_cells = 4;
  expect_blocked_at_four(config);
}

}  // namespace
}  // namespace nyx::mix
