#pragma once
// Circuit: one end of a circuit as the stream layer sees it — the client's
// end (origin) or the last hop's end (terminal) — implementing
// core/datagram_channel.hpp, so a stream session runs over it unchanged.
//
// A datagram of up to kMaxRelayData bytes travels in one RELAY cell. Cover
// cells (RelayType::kDrop, sent at Poisson times when a cover rate is set)
// are indistinguishable from data to every relay and are dropped by the end
// that opens them: they never reach the receiver.
//
// Ownership and threading: made by a Relay, owned by whoever it is handed to
// (the client that asked for it, the exit handler); the Relay must outlive
// it. Destroying an open Circuit sends DESTROY. Every call, and the receiver,
// runs on the Relay's thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <variant>

#include "core/clock.hpp"
#include "core/datagram_channel.hpp"
#include "mix/cell.hpp"
#include "mix/circuit_crypto.hpp"

namespace nyx::mix {

class Relay;
struct CircuitState;

class Circuit final : public DatagramChannel {
 public:
  enum class State : std::uint8_t { kBuilding, kOpen, kClosed };
  using StateHandler = std::function<void(State)>;

  ~Circuit() override;
  Circuit(const Circuit&) = delete;
  Circuit& operator=(const Circuit&) = delete;

  std::size_t max_datagram_size() const noexcept override { return kMaxRelayData; }
  // kClosed once closed; kInvalidArgument when too long; kResourceExhausted
  // while building or when the link queue of this circuit is full.
  Status send(Bytes datagram) override;
  void set_receiver(DatagramReceiver* receiver) noexcept override { receiver_ = receiver; }

  State state() const noexcept { return state_; }
  DestroyReason close_reason() const noexcept { return close_reason_; }
  // Called when the circuit opens or closes.
  void set_state_handler(StateHandler handler) { state_handler_ = std::move(handler); }
  // Poisson-timed cover cells per second from this end; 0 turns them off.
  void set_cover_rate(double cells_per_second) noexcept { cover_rate_ = cells_per_second; }
  double cover_rate() const noexcept { return cover_rate_; }
  std::uint64_t cover_cells_received() const noexcept { return cover_received_; }
  // Sends DESTROY (kRequested) and closes.
  void close();

 private:
  friend class Relay;
  struct TerminalKeys {
    const HopKeys* keys;
  };
  Circuit(Relay& relay, CircuitState& state, std::variant<ClientOnion, TerminalKeys> crypto);

  // Seals one cell of `type` for the other end.
  void seal(RelayType type, Bytes data, CellPayload payload) const;
  Result<RelayMessage> open_cell(CellPayload payload) const;
  void deliver(const RelayMessage& message);
  void set_state(State state, DestroyReason reason = DestroyReason::kRequested);

  Relay& relay_;
  CircuitState* circuit_;  // null once closed
  std::variant<ClientOnion, TerminalKeys> crypto_;
  DatagramReceiver* receiver_ = nullptr;
  StateHandler state_handler_;
  State state_ = State::kBuilding;
  DestroyReason close_reason_ = DestroyReason::kRequested;
  double cover_rate_ = 0;
  Nanos next_cover_{0};
  std::uint64_t cover_received_ = 0;
};

}  // namespace nyx::mix
