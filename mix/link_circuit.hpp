#pragma once
// A circuit as one link sees it: the neighbour and the circuit id on that
// link, and which side of the circuit the link is on. The relay's circuit
// table, its cell scheduler and the circuit ends all name circuits this way.
//
// Value types; thread-safe.

#include <cstddef>
#include <cstdint>

#include "mix/cell.hpp"
#include "mix/cell_link.hpp"

namespace nyx::mix {

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

}  // namespace nyx::mix
