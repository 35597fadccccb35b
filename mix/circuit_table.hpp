#pragma once
// The circuits a node knows, indexed by (neighbour, circuit id) on each of
// their links, and the per-circuit state the relay logic keeps: role, the
// link-side ids up- and downstream, hop keys, timestamps, outgoing queues.
//
// Owned by one Relay; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>

#include "core/clock.hpp"
#include "mix/cell.hpp"
#include "mix/cell_link.hpp"
#include "mix/hop_keys.hpp"

namespace nyx::mix {

class Circuit;

// One end of a circuit on one link.
struct LinkCircuit {
  PeerKey peer{};
  CircuitId id = 0;
  bool operator==(const LinkCircuit&) const = default;
};

struct LinkCircuitHash {
  std::size_t operator()(const LinkCircuit& k) const noexcept {
    return PeerKeyHash{}(k.peer) ^
           static_cast<std::size_t>(std::uint64_t{k.id} * 0x9E3779B97F4A7C15ULL);
  }
};

// Which neighbour a cell came from or goes to: upstream is towards the
// client, downstream towards the last hop.
enum class Side : std::uint8_t { kUpstream, kDownstream };

struct CircuitState {
  enum class Role : std::uint8_t { kOrigin, kMiddle, kTerminal };

  Role role = Role::kMiddle;
  bool open = false;                      // CREATED seen (or sent, at the last hop)
  std::optional<LinkCircuit> upstream;    // absent at the origin
  std::optional<LinkCircuit> downstream;  // absent at the last hop
  HopKeys keys;                           // middle and last hop
  Circuit* endpoint = nullptr;            // origin and last hop: the channel
  Nanos created_at{0};
  Nanos last_active{0};
  std::deque<Cell> queue_up;    // waiting for the upstream link
  std::deque<Cell> queue_down;  // waiting for the downstream link

  std::deque<Cell>& queue(Side towards) noexcept {
    return towards == Side::kUpstream ? queue_up : queue_down;
  }
};

class CircuitTable {
 public:
  struct Slot {
    CircuitState* circuit;
    Side side;  // the side of the circuit this link id is on
  };

  // Registers a circuit under its upstream and downstream link ids.
  CircuitState& insert(std::unique_ptr<CircuitState> circuit);
  // Adds the downstream id once it is known.
  void set_downstream(CircuitState& circuit, LinkCircuit downstream);
  const Slot* find(const LinkCircuit& key) const noexcept {
    auto it = slots_.find(key);
    return it == slots_.end() ? nullptr : &it->second;
  }
  bool contains(const LinkCircuit& key) const noexcept { return slots_.contains(key); }
  void erase(CircuitState& circuit);

  std::size_t size() const noexcept { return circuits_.size(); }
  template <class F>
  void for_each(F&& f) {
    for (auto& [ptr, owned] : circuits_) {
      f(*owned);
    }
  }

 private:
  std::unordered_map<LinkCircuit, Slot, LinkCircuitHash> slots_;
  std::unordered_map<const CircuitState*, std::unique_ptr<CircuitState>> circuits_;
};

}  // namespace nyx::mix
