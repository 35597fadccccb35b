#include <memory>
#include <string>
#include <vector>

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

TEST(RelayMetrics, RegistersEveryFamilyAndTheGaugesAtZero) {
  MemoryNetwork net(2);
  metrics::Registry registry;
  net.relay(1).publish_metrics(registry);
  const std::string text = registry.prometheus_text();
  for (const char* series : {
           "nyx_relay_cells_received_total",
           "nyx_relay_cells_relayed_total",
           "nyx_relay_cells_dropped_total{reason=\"malformed\"}",
           "nyx_relay_cells_dropped_total{reason=\"unknown_circuit\"}",
           "nyx_relay_cells_dropped_total{reason=\"queue_full\"}",
           "nyx_relay_cells_dropped_total{reason=\"link\"}",
           "nyx_relay_cells_dropped_total{reason=\"replayed\"}",
           "nyx_relay_cells_dropped_total{reason=\"too_old\"}",
           "nyx_relay_cover_cells_total{kind=\"link_padding\"}",
           "nyx_relay_cover_cells_total{kind=\"circuit_cover\"}",
           "nyx_relay_creates_total{result=\"accepted\"}",
           "nyx_relay_creates_total{result=\"rejected\"}",
           "nyx_relay_creates_total{result=\"replay\"}",
           "nyx_relay_creates_total{result=\"refused_closed\"}",
           "nyx_relay_creates_total{result=\"rate_limited\"}",
           "nyx_relay_creates_total{result=\"overloaded\"}",
           "nyx_relay_create_dirs_total{result=\"accepted\"}",
           "nyx_relay_create_dirs_total{result=\"refused\"}",
           "nyx_relay_create_dirs_total{result=\"rejected\"}",
           "nyx_relay_create_dirs_total{result=\"rate_limited\"}",
           "nyx_onion_early_rotations_total{cause=\"full\"}",
           "nyx_onion_early_rotations_total{cause=\"untrusted\"}",
           "nyx_relay_circuits_destroyed_total{reason=\"destroy_cell\"}",
           "nyx_relay_circuits_destroyed_total{reason=\"tampered\"}",
           "nyx_relay_circuits_destroyed_total{reason=\"timeout\"}",
           "nyx_relay_circuits",
           "nyx_relay_queued_cells",
       }) {
    EXPECT_TRUE(has_line(text, std::string(series) + " 0")) << series << text;
  }
  // The unlabelled names they replace are gone.
  EXPECT_EQ(text.find("nyx_relay_dropped_"), std::string::npos) << text;
  EXPECT_EQ(text.find("nyx_relay_tampered_total"), std::string::npos) << text;
  EXPECT_EQ(text.find("nyx_relay_creates_accepted_total"), std::string::npos) << text;
}

TEST(RelayMetrics, DropsAreCountedUnderTheirReason) {
  MemoryNetwork net(2);
  metrics::Registry registry;
  net.relay(1).publish_metrics(registry);
  const std::uint8_t garbage[] = {1, 2, 3};
  net.relay(1).handle_cell(PeerKey{}, garbage);  // too short to be a cell
  net.relay(1).tick();
  const std::string text = registry.prometheus_text();
  EXPECT_TRUE(has_line(text, "nyx_relay_cells_dropped_total{reason=\"malformed\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_cells_dropped_total{reason=\"unknown_circuit\"} 0"))
      << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_cells_received_total 1")) << text;
}

// A cell changed between the entry and the middle is caught by the middle
// (its header no longer deciphers), so the middle's registry counts it.
TEST(RelayMetrics, ATamperedCellIsCountedAtTheNextTick) {
  MemoryNetwork net(4);
  metrics::Registry registry;
  net.relay(2).publish_metrics(registry);
  auto client = build(net);
  net.set_filter([](int from, int to, Cell& cell) {
    if (from == 1 && to == 2 &&
        cell[kCircuitIdSize] == static_cast<std::uint8_t>(CellCommand::kRelay)) {
      cell[500] ^= 0x01;
    }
    return true;
  });
  net.relay(2).tick();
  EXPECT_TRUE(has_line(registry.prometheus_text(), "nyx_relay_circuits 1"));

  const std::uint8_t payload[] = {'t', 'a', 'g'};
  ASSERT_EQ(client->send(payload), SendOutcome::kSent);
  net.run();
  // The cell path only bumps the relay's own integer; the registry follows at tick().
  EXPECT_EQ(net.relay(2).counters().tampered, 1u);
  const std::string tampered = "nyx_relay_circuits_destroyed_total{reason=\"tampered\"}";
  EXPECT_TRUE(has_line(registry.prometheus_text(), tampered + " 0"));
  net.relay(2).tick();
  const std::string text = registry.prometheus_text();
  EXPECT_TRUE(has_line(text, tampered + " 1")) << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_circuits 0")) << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_creates_total{result=\"accepted\"} 1")) << text;
  // Later ticks add only what changed since.
  net.relay(2).tick();
  EXPECT_TRUE(has_line(registry.prometheus_text(), tampered + " 1"));
}

// A forward cell replayed into the middle is dropped under its own reason,
// not counted as tampering.
TEST(RelayMetrics, AReplayedCellIsCountedUnderReplayed) {
  MemoryNetwork net(4);
  metrics::Registry registry;
  net.relay(2).publish_metrics(registry);
  auto client = build(net);
  Cell captured{};
  net.set_filter([&](int from, int to, Cell& cell) {
    if (from == 1 && to == 2 &&
        cell[kCircuitIdSize] == static_cast<std::uint8_t>(CellCommand::kRelay)) {
      captured = cell;
    }
    return true;
  });
  const std::uint8_t payload[] = {'r'};
  ASSERT_EQ(client->send(payload), SendOutcome::kSent);
  net.run();
  net.relay(2).handle_cell(net.hop(1).link_key, captured);
  net.relay(2).tick();
  const std::string text = registry.prometheus_text();
  EXPECT_TRUE(has_line(text, "nyx_relay_cells_dropped_total{reason=\"replayed\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_cells_dropped_total{reason=\"too_old\"} 0")) << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_circuits_destroyed_total{reason=\"tampered\"} 0")) << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_circuits 1")) << text;
}

TEST(RelayMetrics, QueuedCellsGaugeFollowsTheLinkQueues) {
  MemoryNetwork net(4);
  metrics::Registry registry;
  net.relay(0).publish_metrics(registry);
  auto client = build(net);
  const std::uint8_t payload[] = {'q'};
  ASSERT_EQ(client->send(payload), SendOutcome::kSent);
  ASSERT_EQ(client->send(payload), SendOutcome::kSent);
  ASSERT_EQ(net.relay(0).queued_cells(), 2u);
  net.relay(0).tick();
  EXPECT_TRUE(has_line(registry.prometheus_text(), "nyx_relay_queued_cells 2"));
  net.run();
  net.relay(0).tick();
  const std::string text = registry.prometheus_text();
  EXPECT_TRUE(has_line(text, "nyx_relay_queued_cells 0")) << text;
  EXPECT_TRUE(has_line(text, "nyx_relay_cells_relayed_total 2")) << text;
}

// Each CREATE_DIR result reaches its own label (distinct counts, so two
// labels swapped in the wiring would show).
TEST(RelayMetrics, CreateDirsAreCountedUnderTheirResult) {
  RelayConfig config;
  config.serves_directory = true;
  config.max_circuits = 3;
  config.create_limits.burst_per_address = 2;
  MemoryNetwork net(3, config);
  std::vector<std::unique_ptr<Circuit>> served;
  net.relay(1).set_directory_handler(
      [&](std::unique_ptr<Circuit> circuit) { served.push_back(std::move(circuit)); });
  metrics::Registry registry;
  net.relay(1).publish_metrics(registry);
  bool bad_padding = false;
  net.set_filter([&](int, int, Cell& cell) {
    if (bad_padding && cell[kCircuitIdSize] == static_cast<std::uint8_t>(CellCommand::kCreateDir)) {
      cell[kCellSize - 1] = 0x01;
    }
    return true;
  });
  std::vector<std::unique_ptr<Circuit>> clients;
  const auto attempt = [&](int from) {
    auto circuit = net.relay(from).create_directory_circuit(net.hop(1).link_key);
    ASSERT_TRUE(circuit.has_value());
    clients.push_back(std::move(*circuit));
    net.run();
  };
  attempt(0);  // accepted
  bad_padding = true;
  attempt(0);  // refused, no token taken
  attempt(0);  // refused
  bad_padding = false;
  attempt(0);  // accepted: the group's burst of 2 is spent
  for (int i = 0; i < 4; ++i) {
    attempt(0);  // rate_limited
  }
  attempt(2);  // accepted: another group; the table is full now
  attempt(2);  // rejected
  ASSERT_EQ(served.size(), 3u);
  net.relay(1).tick();
  const std::string text = registry.prometheus_text();
  for (const char* line : {"nyx_relay_create_dirs_total{result=\"accepted\"} 3",
                           "nyx_relay_create_dirs_total{result=\"refused\"} 2",
                           "nyx_relay_create_dirs_total{result=\"rejected\"} 1",
                           "nyx_relay_create_dirs_total{result=\"rate_limited\"} 4",
                           "nyx_relay_creates_total{result=\"accepted\"} 0"}) {
    EXPECT_TRUE(has_line(text, line)) << line << text;
  }
}

}  // namespace
}  // namespace nyx::mix
