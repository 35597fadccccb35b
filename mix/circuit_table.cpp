#include "mix/circuit_table.hpp"

namespace nyx::mix {

CircuitState& CircuitTable::insert(std::unique_ptr<CircuitState> circuit) {
  CircuitState& ref = *circuit;
  if (ref.upstream) {
    slots_[*ref.upstream] = Slot{&ref, Side::kUpstream};
  }
  if (ref.downstream) {
    slots_[*ref.downstream] = Slot{&ref, Side::kDownstream};
  }
  circuits_.emplace(&ref, std::move(circuit));
  return ref;
}

void CircuitTable::set_downstream(CircuitState& circuit, LinkCircuit downstream) {
  circuit.downstream = downstream;
  slots_[downstream] = Slot{&circuit, Side::kDownstream};
}

void CircuitTable::erase(CircuitState& circuit) {
  if (circuit.upstream) {
    slots_.erase(*circuit.upstream);
  }
  if (circuit.downstream) {
    slots_.erase(*circuit.downstream);
  }
  circuits_.erase(&circuit);
}

}  // namespace nyx::mix
