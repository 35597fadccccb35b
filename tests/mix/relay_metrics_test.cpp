#include <string>

#include <gtest/gtest.h>

#include "core/metrics/registry.hpp"
#include "mix/relay.hpp"
#include "mix/support/memory_network.hpp"

namespace nyx::mix {
namespace {

using testing::MemoryNetwork;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

std::unique_ptr<Circuit> build(MemoryNetwork& net) {
  auto circuit = net.relay(0).create_circuit(net.hops({1, 2, 3}));
  EXPECT_TRUE(circuit.has_value());
  net.run();
  EXPECT_EQ((*circuit)->state(), Circuit::State::kOpen);
  return std::move(*circuit);
}

TEST(RelayMetrics, RegistersEveryCounterAndTheGaugesAtZero) {
  MemoryNetwork net(2);
  metrics::Registry registry;
  net.relay(1).publish_metrics(registry);
  const std::string text = registry.prometheus_text();
  for (const char* name :
       {"cells_received", "cells_relayed", "dropped_malformed", "dropped_unknown_circuit",
        "dropped_queue_full", "dropped_link", "padding_received", "cover_dropped",
        "creates_accepted", "creates_rejected", "tampered", "destroys_received", "timeouts"}) {
    EXPECT_TRUE(has_line(text, std::string("nyx_relay_") + name + "_total 0")) << name << text;
  }
  EXPECT_TRUE(has_line(text, "nyx_relay_circuits 0")) << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_queued_cells 0")) << text;
}

TEST(RelayMetrics, ATamperedCellIsCountedAtTheNextTick) {
  MemoryNetwork net(4);
  metrics::Registry registry;
  net.relay(3).publish_metrics(registry);
  auto client = build(net);
  net.set_filter([](int from, int to, Cell& cell) {
    if (from == 1 && to == 2 &&
        cell[kCircuitIdSize] == static_cast<std::uint8_t>(CellCommand::kRelay)) {
      cell[500] ^= 0x01;
    }
    return true;
  });
  net.relay(3).tick();
  EXPECT_TRUE(has_line(registry.prometheus_text(), "nyx_relay_circuits 1"));

  const std::uint8_t payload[] = {'t', 'a', 'g'};
  ASSERT_TRUE(client->send(payload).has_value());
  net.run();
  // The cell path only bumps the relay's own integer; the registry follows at tick().
  EXPECT_EQ(net.relay(3).counters().tampered, 1u);
  EXPECT_TRUE(has_line(registry.prometheus_text(), "nyx_relay_tampered_total 0"));
  net.relay(3).tick();
  const std::string text = registry.prometheus_text();
  EXPECT_TRUE(has_line(text, "nyx_relay_tampered_total 1")) << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_circuits 0")) << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_creates_accepted_total 1")) << text;
  // Later ticks add only what changed since.
  net.relay(3).tick();
  EXPECT_TRUE(has_line(registry.prometheus_text(), "nyx_relay_tampered_total 1"));
}

TEST(RelayMetrics, QueuedCellsGaugeFollowsTheLinkQueues) {
  MemoryNetwork net(4);
  metrics::Registry registry;
  net.relay(0).publish_metrics(registry);
  auto client = build(net);
  const std::uint8_t payload[] = {'q'};
  ASSERT_TRUE(client->send(payload).has_value());
  ASSERT_TRUE(client->send(payload).has_value());
  ASSERT_EQ(net.relay(0).queued_cells(), 2u);
  net.relay(0).tick();
  EXPECT_TRUE(has_line(registry.prometheus_text(), "nyx_relay_queued_cells 2"));
  net.run();
  net.relay(0).tick();
  const std::string text = registry.prometheus_text();
  EXPECT_TRUE(has_line(text, "nyx_relay_queued_cells 0")) << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_cells_relayed_total 2")) << text;
}

}  // namespace
}  // namespace nyx::mix
