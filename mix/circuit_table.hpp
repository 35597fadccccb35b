#pragma once
// The circuits a node knows, indexed by (neighbour, circuit id) on each of
// their links, and the per-circuit state the relay logic keeps: role, the
// link-side ids up- and downstream, hop keys, timestamps, and the queues in
// which its data cells wait for the cell scheduler.
//
// Owned by one Relay; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "mix/cell.hpp"
#include "mix/cell_scheduler.hpp"
#include "mix/hop_keys.hpp"
#include "mix/link_circuit.hpp"
#include "mix/onion_create.hpp"
#include "mix/slot_window.hpp"

namespace nyx::mix {

class CircuitEndpoint;

struct CircuitState {
  enum class Role : std::uint8_t { kOrigin, kMiddle, kTerminal };

  Role role = Role::kMiddle;
  bool open = false;                      // CREATED seen (or sent, at the last hop)
  std::optional<LinkCircuit> upstream;    // absent at the origin
  std::optional<LinkCircuit> downstream;  // absent at the last hop
  HopKeys keys;                           // middle hop; the last hop hands them to its Circuit
  SlotWindow forward_window;              // middle hop: the (epoch, slot) pairs seen
  std::uint64_t cells_from_upstream = 0;  // data cells, against RelayConfig::cell_cap
  std::uint64_t cells_from_downstream = 0;
  CircuitEndpoint* endpoint = nullptr;  // origin and last hop: the channel
  // The origin while it builds: its path, to build it once more with the
  // next key of a hop that refused (proposal 0002, section 8.5), and whether
  // this is that second attempt. Cleared when the circuit opens: nothing of
  // a refusal outlives the setup it happened in.
  std::vector<OnionHop> path;
  bool rebuilt = false;
  Nanos created_at{0};
  Nanos last_active{0};
  CellQueue queue_up;    // waiting for the upstream link
  CellQueue queue_down;  // waiting for the downstream link

  CellQueue& queue(Side towards) noexcept {
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
