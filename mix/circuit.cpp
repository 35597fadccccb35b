#include "mix/circuit.hpp"

#include <array>

namespace nyx::mix {

Circuit::Circuit(CircuitCarrier& carrier, LinkCircuit out, EndCrypto crypto, State state)
    : carrier_(&carrier), out_(out), crypto_(std::move(crypto)), state_(state) {}

Circuit::~Circuit() {
  if (carrier_ != nullptr) {
    carrier_->release_circuit(out_);  // no state callbacks into a dying object
  }
}

void Circuit::close() {
  if (carrier_ != nullptr) {
    carrier_->destroy_circuit(out_, DestroyReason::kRequested);
  }
}

SendOutcome Circuit::send(Bytes datagram) {
  if (state_ == State::kClosed || carrier_ == nullptr) {
    return SendOutcome::kClosed;
  }
  if (datagram.size() > kMaxRelayData) {
    return SendOutcome::kTooLarge;
  }
  if (state_ != State::kOpen) {
    return SendOutcome::kBlocked;  // it opens shortly; the caller retries
  }
  return send_cell(RelayType::kData, datagram);
}

SendOutcome Circuit::send_cell(RelayType type, Bytes data) {
  Cell cell;
  write_cell_header(cell, 0,
                    CellCommand::kRelay);  // the carrier writes the link's id
  const CellPayload payload = cell_payload(cell).subspan<0, kCellPayloadSize>();
  if (auto* onion = std::get_if<ClientOnion>(&crypto_)) {
    onion->seal(type, data, payload);
  } else {
    std::get<TerminalCrypto>(crypto_).seal(CellCommand::kRelay, type, data, payload);
  }
  ++cells_sealed_;
  return carrier_->send_cell(out_, cell);
}

CellVerdict Circuit::open_cell(CellPayload payload, RelayMessage& message) {
  const CellVerdict verdict =
      std::holds_alternative<ClientOnion>(crypto_)
          ? std::get<ClientOnion>(crypto_).open(payload, message)
          : std::get<TerminalCrypto>(crypto_).open(CellCommand::kRelay, payload, message);
  if (verdict == CellVerdict::kOk) {
    ++cells_opened_;
  }
  return verdict;
}

// The plaintexts of proposal 0002, section 8.5: CREATED from the last hop,
// REFUSED (key closed) from any hop; anything else that opens is a protocol
// violation.
Circuit::Created Circuit::check_created(CellPayload payload) {
  auto* onion = std::get_if<ClientOnion>(&crypto_);
  if (onion == nullptr) {
    return {.kind = Created::Kind::kProtocol};  // a last hop's end never receives CREATED
  }
  ClientOnion::Answer answer;
  switch (onion->open_created(payload, answer)) {
    case CellVerdict::kOk:
      break;
    case CellVerdict::kTampered:
      return {.kind = Created::Kind::kTampered};
    default:
      return {.kind = Created::Kind::kProtocol};
  }
  const RelayMessage& message = answer.message;
  const bool last = answer.hop + 1 == onion->hops();
  if (message.type == RelayType::kCreated && last) {
    return {.kind = Created::Kind::kOpen};
  }
  if (message.type == RelayType::kRefused && message.data.size() == 1 &&
      message.data[0] == static_cast<std::uint8_t>(RefusedReason::kKeyClosed)) {
    return {.kind = Created::Kind::kRefused, .hop = answer.hop};
  }
  return {.kind = Created::Kind::kProtocol};
}

Circuit::Received Circuit::on_relay_cell(CellPayload payload) {
  RelayMessage message;
  switch (open_cell(payload, message)) {
    case CellVerdict::kOk:
      break;
    case CellVerdict::kTampered:
      return Received::kTampered;
    case CellVerdict::kReplayed:
    case CellVerdict::kTooOld:
      return Received::kReplayed;
    case CellVerdict::kMalformed:
      return Received::kMalformed;
  }
  switch (message.type) {
    case RelayType::kData:
      break;
    case RelayType::kDrop:
      ++cover_received_;
      return Received::kCover;
    case RelayType::kCreated:
    case RelayType::kRefused:  // valid only inside a CREATED
    case RelayType::kEnd:      // valid only inside a DESTROY
      return Received::kUnexpected;
  }
  if (receiver_ != nullptr) {
    receiver_->on_datagram(message.data);  // last: the receiver may destroy this end
  }
  return Received::kData;
}

void Circuit::seal_end(DestroyReason reason, CellPayload payload) {
  const std::array<std::uint8_t, 1> data{static_cast<std::uint8_t>(reason)};
  if (auto* onion = std::get_if<ClientOnion>(&crypto_)) {
    onion->seal(RelayType::kEnd, data, payload, CellCommand::kDestroy);
  } else {
    std::get<TerminalCrypto>(crypto_).seal(CellCommand::kDestroy, RelayType::kEnd, data, payload);
  }
}

DestroyReason Circuit::read_end(CellPayload payload) {
  if (const auto* onion = std::get_if<ClientOnion>(&crypto_)) {
    return onion->open_destroy(payload);
  }
  return std::get<TerminalCrypto>(crypto_).open_destroy(payload);
}

void Circuit::on_open() { set_state(State::kOpen); }

void Circuit::on_rebuilt(LinkCircuit out, ClientOnion onion) {
  out_ = out;
  crypto_ = std::move(onion);
  cells_sealed_ = 0;  // fresh keys, fresh slots
  cells_opened_ = 0;
}

void Circuit::on_closed(DestroyReason reason) {
  carrier_ = nullptr;  // before the handler, which may destroy this end
  set_state(State::kClosed, reason);
}

void Circuit::on_detached() {
  carrier_ = nullptr;
  state_ = State::kClosed;
}

void Circuit::on_tick(Nanos now, RandomSource& random) {
  for (std::size_t due = cover_.take_due(now, random); due > 0; --due) {
    (void)send_cell(RelayType::kDrop, {});  // cover may be dropped like data
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
