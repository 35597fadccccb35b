// Circuits over real links: in-process nodes, each a Relay on its own
// transport LinkManager (Noise over UDP on 127.0.0.1), one io_context.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "mix/link_manager_cell_link.hpp"
#include "mix/relay.hpp"
#include "mix/support/test_nodes.hpp"

namespace nyx::mix {
namespace {

using namespace std::chrono_literals;
using testing::make_test_node;

struct LoopbackNode {
  LoopbackNode(asio::io_context& io, int index) : keys(make_test_node(index, true)) {
    transport::LinkConfig config;
    config.udp_listen = {asio::ip::make_address("127.0.0.1"), 0};
    config.tick = 10ms;
    config.handshake_retry = 50ms;
    auto created = transport::LinkManager::create(
        io, SteadyClock::instance(), crypto::X25519KeyPair::from_secret(keys.link.secret.span()),
        config);
    EXPECT_TRUE(created.has_value());
    links = std::move(*created);
    cell_link = std::make_unique<LinkManagerCellLink>(*links, io);
    relay = std::make_unique<Relay>(SteadyClock::instance(), *cell_link, keys.descriptor.link_key,
                                    random);
    cell_link->attach(*relay);
    relay->onion_keys().rotate(keys.descriptor.onion_key_epoch,
                               crypto::X25519KeyPair::from_secret(keys.onion.secret.span()));
    relay->set_terminal_handler(
        [this](std::unique_ptr<Circuit> c) { ends.push_back(std::move(c)); });
    keys.descriptor.udp_address =
        "127.0.0.1:" + std::to_string(links->udp_local_endpoint()->port());
    keys.descriptor.tcp_address.clear();
  }
  ~LoopbackNode() {
    ends.clear();
    relay.reset();
    cell_link.reset();
    links->stop();
  }
  OnionHop hop() const { return {keys.descriptor.onion_key, keys.descriptor.link_key}; }

  testing::TestNode keys;
  CryptoRandomSource random;
  std::unique_ptr<transport::LinkManager> links;
  std::unique_ptr<LinkManagerCellLink> cell_link;
  std::unique_ptr<Relay> relay;
  std::vector<std::unique_ptr<Circuit>> ends;
};

class Collect final : public DatagramReceiver {
 public:
  void on_datagram(Bytes d) override { got.emplace_back(d.begin(), d.end()); }
  std::vector<std::vector<std::uint8_t>> got;
};

class Loopback : public ::testing::Test {
 protected:
  void start(int count) {
    for (int i = 0; i < count; ++i) {
      nodes.push_back(std::make_unique<LoopbackNode>(io, i));
    }
    Directory dir;
    dir.valid_after = 1;
    dir.valid_until = 2;
    for (auto& node : nodes) {
      dir.nodes.push_back(node->keys.descriptor);
    }
    for (auto& node : nodes) {
      ASSERT_TRUE(node->cell_link->add_peers(dir).has_value());
    }
  }
  void TearDown() override {
    nodes.clear();
    io.run_for(10ms);
  }
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      io.run_for(5ms);
      if (io.stopped()) {
        io.restart();
      }
    }
    return true;
  }
  std::unique_ptr<Circuit> build(const std::vector<int>& path) {
    std::vector<OnionHop> hops;
    for (int i : path) {
      hops.push_back(nodes[static_cast<std::size_t>(i)]->hop());
    }
    auto circuit = nodes[0]->relay->create_circuit(hops);
    EXPECT_TRUE(circuit.has_value());
    Circuit* c = circuit->get();
    EXPECT_TRUE(run_until([&] { return c->state() != Circuit::State::kBuilding; }));
    return std::move(*circuit);
  }

  asio::io_context io;
  std::vector<std::unique_ptr<LoopbackNode>> nodes;
};

TEST_F(Loopback, ThreeAndFiveHopCircuitsCarryDataByteExactBothWays) {
  start(6);
  for (const std::vector<int>& path :
       {std::vector<int>{1, 2, 3}, std::vector<int>{1, 2, 3, 4, 5}}) {
    auto client = build(path);
    ASSERT_EQ(client->state(), Circuit::State::kOpen);
    LoopbackNode& last = *nodes[static_cast<std::size_t>(path.back())];
    ASSERT_FALSE(last.ends.empty());
    Circuit& exit = *last.ends.back();
    Collect at_exit;
    Collect at_client;
    exit.set_receiver(&at_exit);
    client->set_receiver(&at_client);
    std::vector<std::vector<std::uint8_t>> sent;
    for (int i = 0; i < 20; ++i) {
      std::vector<std::uint8_t> d(static_cast<std::size_t>(i * 49 % 985));
      for (std::size_t k = 0; k < d.size(); ++k) {
        d[k] = static_cast<std::uint8_t>(k + static_cast<std::size_t>(i));
      }
      ASSERT_TRUE(client->send(d).has_value());
      ASSERT_TRUE(exit.send(d).has_value());
      sent.push_back(d);
    }
    ASSERT_TRUE(run_until([&] { return at_exit.got.size() == 20 && at_client.got.size() == 20; }))
        << at_exit.got.size() << " / " << at_client.got.size();
    // One link, one UDP path, no loss on loopback at this rate: in order.
    EXPECT_EQ(at_exit.got, sent);
    EXPECT_EQ(at_client.got, sent);
    exit.set_receiver(nullptr);
  }
}

TEST_F(Loopback, DestroyPropagatesOverLinks) {
  start(4);
  auto client = build({1, 2, 3});
  ASSERT_EQ(client->state(), Circuit::State::kOpen);
  ASSERT_EQ(nodes[3]->ends.size(), 1u);
  client->close();
  EXPECT_TRUE(run_until([&] { return nodes[3]->ends[0]->state() == Circuit::State::kClosed; }));
  EXPECT_EQ(nodes[1]->relay->circuit_count(), 0u);
  EXPECT_EQ(nodes[2]->relay->circuit_count(), 0u);
}

TEST_F(Loopback, WrongOnionKeyFailsSetup) {
  start(4);
  std::vector<OnionHop> hops = {nodes[1]->hop(), nodes[2]->hop(), nodes[3]->hop()};
  hops[2].onion_key = nodes[1]->hop().onion_key;
  auto circuit = nodes[0]->relay->create_circuit(hops);
  ASSERT_TRUE(circuit.has_value());
  Circuit* c = circuit->get();
  ASSERT_TRUE(run_until([&] { return c->state() == Circuit::State::kClosed; }));
  EXPECT_EQ(c->close_reason(), DestroyReason::kCreateFailed);
  EXPECT_EQ(nodes[3]->relay->counters().creates_rejected, 1u);
}

}  // namespace
}  // namespace nyx::mix
