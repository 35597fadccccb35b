#include "mix/circuit_pool.hpp"

#include <algorithm>

#include "mix/relay.hpp"

namespace nyx::mix {

CircuitPool::CircuitPool(Relay& relay, PathSelector& paths, const Clock& clock,
                         CircuitPoolConfig config)
    : relay_(relay), paths_(paths), clock_(clock), config_(config) {}

Status CircuitPool::build(std::string_view destination) {
  auto path = paths_.select(
      nodes_,
      {.hops = config_.hops, .destination = std::string(destination), .subnets = config_.subnets});
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
    retire_if_spent(e, now);
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

void CircuitPool::retire_if_spent(PooledCircuit& entry, Nanos now) const {
  if (now - entry.born >= config_.max_age || entry.circuit->cells_carried() >= config_.cell_soft) {
    entry.retired = true;
  }
}

Result<Circuit*> CircuitPool::acquire(std::string_view destination) {
  const Nanos now = clock_.now();
  for (PooledCircuit& e : entries_) {
    retire_if_spent(e, now);
    if (!e.retired && e.circuit->state() == Circuit::State::kOpen &&
        e.exit_rules.allows(destination)) {
      ++e.streams_open;
      if (++e.streams_total >= config_.max_streams) {
        e.retired = true;
      }
      return e.circuit.get();
    }
  }
  // Another build unless one is young enough to wait for, or enough run.
  const Nanos young_since = now - hedge_delay();
  std::size_t building = 0;
  bool young = false;
  for (const PooledCircuit& e : entries_) {
    if (!e.retired && e.circuit->state() == Circuit::State::kBuilding &&
        e.exit_rules.allows(destination)) {
      ++building;
      young = young || e.born > young_since;
    }
  }
  if (!young && building < config_.max_building) {
    if (auto built = build(destination); !built) {
      return std::unexpected(std::move(built.error()));
    }
  }
  return nullptr;
}

void CircuitPool::record_build_time(Nanos duration) {
  build_times_[build_time_count_ % kBuildTimeSamples] = duration;
  ++build_time_count_;
}

Nanos CircuitPool::hedge_delay() const {
  const std::size_t count = std::min(build_time_count_, kBuildTimeSamples);
  if (count == 0) {
    return config_.hedge_max;
  }
  std::array<Nanos, kBuildTimeSamples> sorted = build_times_;
  const auto middle = sorted.begin() + static_cast<std::ptrdiff_t>(count / 2);
  std::nth_element(sorted.begin(), middle, sorted.begin() + static_cast<std::ptrdiff_t>(count));
  return std::clamp(3 * *middle, config_.hedge_min, config_.hedge_max);
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
