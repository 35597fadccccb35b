#include "mix/circuit_pool.hpp"

#include <algorithm>

#include "mix/relay.hpp"

namespace nyx::mix {

CircuitPool::CircuitPool(Relay& relay, PathSelector& paths, const Clock& clock,
                         CircuitPoolConfig config)
    : relay_(relay), paths_(paths), clock_(clock), config_(config) {}

Status CircuitPool::build(std::string_view destination) {
  auto path =
      paths_.select(nodes_, {.hops = config_.hops, .destination = std::string(destination)});
  if (!path) {
    return std::unexpected(std::move(path.error()));
  }
  std::vector<OnionHop> hops;
  std::vector<crypto::Ed25519PublicKey> identities;
  for (const document::NodeDescriptor* node : *path) {
    hops.push_back({node->onion_key, node->link_key});
    identities.push_back(node->identity_key);
  }
  auto circuit = relay_.create_circuit(hops);
  if (!circuit) {
    return std::unexpected(std::move(circuit.error()));
  }
  entries_.push_back(PooledCircuit{.circuit = std::move(*circuit),
                                   .exit_rules = path->back()->exit_rules,
                                   .hops = std::move(identities),
                                   .born = clock_.now()});
  return {};
}

Status CircuitPool::maintain() {
  const Nanos now = clock_.now();
  for (PooledCircuit& e : entries_) {
    if (now - e.born >= config_.max_age) {
      e.retired = true;
    }
  }
  std::erase_if(entries_, [this](const PooledCircuit& e) {
    const bool done =
        e.circuit->state() == Circuit::State::kClosed || (e.retired && e.streams_open == 0);
    if (done && on_retire_) {
      on_retire_(*e.circuit);
    }
    return done;
  });
  std::size_t fresh = static_cast<std::size_t>(std::count_if(
      entries_.begin(), entries_.end(), [](const PooledCircuit& e) { return !e.retired; }));
  for (; fresh < config_.prebuilt; ++fresh) {
    if (auto built = build({}); !built) {
      return built;
    }
  }
  return {};
}

Result<Circuit*> CircuitPool::acquire(std::string_view destination) {
  for (PooledCircuit& e : entries_) {
    if (!e.retired && e.circuit->state() == Circuit::State::kOpen &&
        e.exit_rules.allows(destination)) {
      ++e.streams_open;
      if (++e.streams_total >= config_.max_streams) {
        e.retired = true;
      }
      return e.circuit.get();
    }
  }
  const bool building = std::any_of(entries_.begin(), entries_.end(), [&](const PooledCircuit& e) {
    return !e.retired && e.circuit->state() == Circuit::State::kBuilding &&
           e.exit_rules.allows(destination);
  });
  if (!building) {
    if (auto built = build(destination); !built) {
      return std::unexpected(std::move(built.error()));
    }
  }
  return nullptr;
}

std::size_t CircuitPool::retire_all() {
  std::size_t retired = 0;
  for (PooledCircuit& e : entries_) {
    if (!e.retired) {
      e.retired = true;
      ++retired;
    }
  }
  return retired;
}

void CircuitPool::release(const Circuit* circuit) {
  for (PooledCircuit& e : entries_) {
    if (e.circuit.get() == circuit && e.streams_open > 0) {
      --e.streams_open;
    }
  }
}

}  // namespace nyx::mix
