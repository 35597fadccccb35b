#include "mix/support/memory_network.hpp"

#include <algorithm>

namespace nyx::mix::testing {

struct MemoryNetwork::Node final : CellLink {
  Node(MemoryNetwork& net, int index, const RelayConfig& config)
      : network(net), self(index), keys(make_test_node(index, true)) {
    relay =
        std::make_unique<Relay>(net.clock_, *this, keys.descriptor.link_key, net.random_, config);
    relay->onion_keys().rotate(keys.descriptor.onion_key_epoch,
                               crypto::X25519KeyPair::from_secret(keys.onion.secret.span()));
    relay->set_terminal_handler(
        [this](std::unique_ptr<Circuit> circuit) { terminals.push_back(std::move(circuit)); });
  }
  bool send_cell(const PeerKey& peer, Bytes cell) override {
    int to = network.index_of(peer);
    if (to < 0) {
      return false;
    }
    InFlight f{self, to, {}};
    std::copy(cell.begin(), cell.end(), f.cell.begin());
    network.in_flight_.push_back(f);
    return true;
  }
  // Node i sits at 192.0.2.(i+1): each node is its own admission group.
  std::optional<asio::ip::address> peer_address(const PeerKey& peer) const override {
    const int from = network.index_of(peer);
    if (from < 0) {
      return std::nullopt;
    }
    return asio::ip::make_address_v4(
        asio::ip::address_v4::bytes_type{192, 0, 2, static_cast<std::uint8_t>(from + 1)});
  }

  MemoryNetwork& network;
  int self;
  TestNode keys;
  std::unique_ptr<Relay> relay;
  std::vector<std::unique_ptr<Circuit>> terminals;
};

MemoryNetwork::MemoryNetwork(int nodes, RelayConfig config) : clock_(Nanos{1'000'000'000}) {
  for (int i = 0; i < nodes; ++i) {
    nodes_.push_back(std::make_unique<Node>(*this, i, config));
  }
  delivered_.assign(static_cast<std::size_t>(nodes),
                    std::vector<std::size_t>(static_cast<std::size_t>(nodes), 0));
}

MemoryNetwork::~MemoryNetwork() {
  // Closing circuits sends DESTROY to neighbours, which must all still exist.
  for (auto& node : nodes_) {
    node->terminals.clear();
  }
}

Relay& MemoryNetwork::relay(int node) { return *nodes_[static_cast<std::size_t>(node)]->relay; }

std::vector<std::unique_ptr<Circuit>>& MemoryNetwork::terminals(int node) {
  return nodes_[static_cast<std::size_t>(node)]->terminals;
}

const document::NodeDescriptor& MemoryNetwork::descriptor(int node) const {
  return nodes_[static_cast<std::size_t>(node)]->keys.descriptor;
}

OnionHop MemoryNetwork::hop(int node) const {
  const document::NodeDescriptor& d = nodes_[static_cast<std::size_t>(node)]->keys.descriptor;
  return {d.onion_key, d.link_key};
}

std::vector<OnionHop> MemoryNetwork::hops(std::initializer_list<int> nodes) const {
  std::vector<OnionHop> out;
  for (int n : nodes) {
    out.push_back(hop(n));
  }
  return out;
}

int MemoryNetwork::index_of(const PeerKey& key) const {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->keys.descriptor.link_key == key) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::size_t MemoryNetwork::delivered(int from, int to) const {
  return delivered_[static_cast<std::size_t>(from)][static_cast<std::size_t>(to)];
}

void MemoryNetwork::run() {
  for (int round = 0; round < 1000; ++round) {
    for (auto& node : nodes_) {
      node->relay->flush();
    }
    if (in_flight_.empty()) {
      return;
    }
    std::vector<InFlight> batch;
    batch.swap(in_flight_);
    for (InFlight& f : batch) {
      if (filter_ && !filter_(f.from, f.to, f.cell)) {
        continue;
      }
      ++delivered_[static_cast<std::size_t>(f.from)][static_cast<std::size_t>(f.to)];
      const PeerKey& from = nodes_[static_cast<std::size_t>(f.from)]->keys.descriptor.link_key;
      nodes_[static_cast<std::size_t>(f.to)]->relay->handle_cell(from, f.cell);
    }
  }
}

void MemoryNetwork::tick_all() {
  for (auto& node : nodes_) {
    node->relay->tick();
  }
}

}  // namespace nyx::mix::testing
