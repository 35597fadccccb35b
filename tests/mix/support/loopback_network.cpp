#include "mix/support/loopback_network.hpp"

#include <algorithm>
#include <string>

#include <asio/ip/address.hpp>

#include "support/run_until.hpp"

namespace nyx::mix::testing {

using namespace std::chrono_literals;

bool TapCellLink::send_cell(const PeerKey& peer, Bytes cell) {
  if (cell.size() != kCellSize) {
    return inner_.send_cell(peer, cell);
  }
  Cell copy;
  std::copy(cell.begin(), cell.end(), copy.begin());
  if (filter_ && !filter_(peer, copy)) {
    return true;
  }
  const auto command = static_cast<std::size_t>(copy[kCircuitIdSize]);
  if (command < sent_.size()) {
    ++sent_[command];
  }
  return inner_.send_cell(peer, copy);
}

LoopbackNode::LoopbackNode(asio::io_context& io, int index, const LoopbackOptions& options)
    : keys(make_test_node(index, true)) {
  transport::LinkConfig config;
  const std::string address = options.address(index);
  config.udp_listen = {asio::ip::make_address(address), 0};
  config.tick = 10ms;
  config.handshake_retry = 50ms;
  auto created = transport::LinkManager::create(
      io, SteadyClock::instance(), async::SteadyTimers::instance(),
      crypto::X25519KeyPair::from_secret(keys.link.secret.span()), config);
  EXPECT_TRUE(created.has_value()) << created.error().message;
  links = std::move(created).value();
  cell_link = std::make_unique<LinkManagerCellLink>(*links, io);
  tap = std::make_unique<TapCellLink>(*cell_link);
  relay = std::make_unique<Relay>(*options.relay_clock, *tap, keys.descriptor.link_key, random,
                                  options.relay_config(index));
  cell_link->attach(*relay);
  relay->onion_keys().rotate(keys.descriptor.onion_key_epoch,
                             crypto::X25519KeyPair::from_secret(keys.onion.secret.span()));
  relay->set_terminal_handler([this](std::unique_ptr<Circuit> c) { ends.push_back(std::move(c)); });
  keys.descriptor.udp_address = address + ":" + std::to_string(links->udp_local_endpoint()->port());
  keys.descriptor.tcp_address.clear();
}

LoopbackNode::~LoopbackNode() { stop(); }

void LoopbackNode::stop() {
  if (stopped) {
    return;
  }
  stopped = true;
  // A test's filter refers to its own locals, gone by now.
  tap->set_filter(nullptr);
  ends.clear();
  relay.reset();
  // The cell link unhooks itself from the LinkManager, so it goes before it.
  cell_link.reset();
  tap.reset();
  links->stop();
}

void LoopbackTest::start(int count, const LoopbackOptions& options) {
  for (int i = 0; i < count; ++i) {
    nodes.push_back(std::make_unique<LoopbackNode>(io, i, options));
  }
  document::Directory dir;
  dir.valid_after = 1;
  dir.valid_until = 2;
  for (auto& n : nodes) {
    dir.nodes.push_back(n->keys.descriptor);
  }
  for (auto& n : nodes) {
    ASSERT_TRUE(n->cell_link->add_peers(dir).has_value());
  }
}

void LoopbackTest::TearDown() {
  for (auto& n : nodes) {
    n->stop();
  }
  // Cancelled handlers still refer to the LinkManagers: let them finish first.
  io.restart();
  io.run_for(10ms);
  nodes.clear();
}

bool LoopbackTest::run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  return nyx::test::run_until(io, done, limit);
}

std::unique_ptr<Circuit> LoopbackTest::build(const std::vector<int>& path) {
  std::vector<OnionHop> hops;
  for (int i : path) {
    hops.push_back(node(i).hop());
  }
  auto circuit = node(0).relay->create_circuit(hops);
  EXPECT_TRUE(circuit.has_value());
  if (!circuit) {
    return nullptr;
  }
  Circuit* c = circuit->get();
  EXPECT_TRUE(run_until([&] { return c->state() != Circuit::State::kBuilding; }));
  return std::move(*circuit);
}

}  // namespace nyx::mix::testing
