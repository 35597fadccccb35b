#include "mix/circuit.hpp"

#include "mix/relay.hpp"

namespace nyx::mix {

Circuit::Circuit(Relay& relay, CircuitState& state, std::variant<ClientOnion, TerminalKeys> crypto)
    : relay_(relay), circuit_(&state), crypto_(std::move(crypto)) {}

Circuit::~Circuit() {
  if (circuit_ != nullptr) {
    circuit_->endpoint = nullptr;  // no state callbacks into a dying object
    relay_.destroy(*circuit_, DestroyReason::kRequested);
  }
}

void Circuit::close() {
  if (circuit_ != nullptr) {
    relay_.destroy(*circuit_, DestroyReason::kRequested);
  }
}

Status Circuit::send(Bytes datagram) {
  if (state_ == State::kClosed || circuit_ == nullptr) {
    return make_error(ErrorCategory::kClosed, "circuit closed");
  }
  if (datagram.size() > kMaxRelayData) {
    return make_error(ErrorCategory::kInvalidArgument, "datagram larger than a cell");
  }
  return relay_.send_from_endpoint(*circuit_, RelayType::kData, datagram);
}

void Circuit::seal(RelayType type, Bytes data, CellPayload payload) const {
  if (const auto* onion = std::get_if<ClientOnion>(&crypto_)) {
    onion->seal(type, data, payload);
  } else {
    terminal_seal(*std::get<TerminalKeys>(crypto_).keys, type, data, payload);
  }
}

Result<RelayMessage> Circuit::open_cell(CellPayload payload) const {
  if (const auto* onion = std::get_if<ClientOnion>(&crypto_)) {
    return onion->open(payload);
  }
  return terminal_open(*std::get<TerminalKeys>(crypto_).keys, payload);
}

void Circuit::deliver(const RelayMessage& message) {
  if (message.type == RelayType::kDrop) {
    ++cover_received_;
    return;
  }
  if (receiver_ != nullptr) {
    receiver_->on_datagram(message.data);
  }
}

void Circuit::set_state(State state, DestroyReason reason) {
  state_ = state;
  close_reason_ = reason;
  if (state_handler_) {
    state_handler_(state);
  }
}

}  // namespace nyx::mix
