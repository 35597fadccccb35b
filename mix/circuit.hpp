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
// The end owns its end-to-end crypto and its cover schedule; it reaches the
// relay that carries it only through CircuitCarrier, and that relay reaches
// it only through CircuitEndpoint (mix/circuit_endpoint.hpp), whose calls
// are private here: they are not for the stream layer.
//
// Ownership and threading: made by a Relay, owned by whoever it is handed to
// (the client that asked for it, the exit handler). If the Relay goes first
// the circuit is closed silently. Destroying an open Circuit sends DESTROY.
// Every call, and the receiver, runs on the Relay's thread.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <variant>

#include "core/datagram_channel.hpp"
#include "mix/cell.hpp"
#include "mix/circuit_crypto.hpp"
#include "mix/circuit_endpoint.hpp"
#include "mix/client_onion.hpp"
#include "mix/cover_traffic.hpp"
#include "mix/hop_keys.hpp"
#include "mix/link_circuit.hpp"

namespace nyx::mix {

class Circuit final : public DatagramChannel, public CircuitEndpoint {
 public:
  enum class State : std::uint8_t { kBuilding, kOpen, kClosed };
  using StateHandler = std::function<void(State)>;
  // The origin holds every hop's keys, the last hop its own.
  using EndCrypto = std::variant<ClientOnion, TerminalCrypto>;

  // An end carried by `carrier`, whose cells leave on `out`.
  Circuit(CircuitCarrier& carrier, LinkCircuit out, EndCrypto crypto, State state);
  ~Circuit() override;
  Circuit(const Circuit&) = delete;
  Circuit& operator=(const Circuit&) = delete;

  std::size_t max_datagram_size() const noexcept override { return kMaxRelayData; }
  // kClosed once closed; kTooLarge beyond kMaxRelayData; kBlocked while
  // building or when the link queue of this circuit is full.
  SendOutcome send(Bytes datagram) override;
  void set_receiver(DatagramReceiver* receiver) noexcept override { receiver_ = receiver; }

  State state() const noexcept { return state_; }
  // The neighbour this end's cells leave to: the entry at the origin, the
  // previous hop at the last hop (for a one-hop directory circuit, the
  // client's link, whose static key the Noise handshake authenticated).
  const PeerKey& link_peer() const noexcept { return out_.peer; }
  DestroyReason close_reason() const noexcept { return close_reason_; }
  // Called when the circuit opens or closes.
  void set_state_handler(StateHandler handler) { state_handler_ = std::move(handler); }
  // Poisson-timed cover cells per second from this end; 0 turns them off.
  void set_cover_rate(double cells_per_second) noexcept { cover_.set_rate(cells_per_second); }
  double cover_rate() const noexcept { return cover_.rate(); }
  std::uint64_t cover_cells_received() const noexcept { return cover_received_; }
  // RELAY cells this end has sealed or opened (cover included) under its
  // current keys, whichever is more: the pool retires a circuit past
  // CELL_SOFT (docs/protocol.md, "Limits").
  std::uint64_t cells_carried() const noexcept { return std::max(cells_sealed_, cells_opened_); }
  // Sends DESTROY (kRequested) and closes.
  void close();

 private:
  // CircuitEndpoint: the carrying relay's calls.
  Created check_created(CellPayload payload) override;
  Received on_relay_cell(CellPayload payload) override;
  void seal_end(DestroyReason reason, CellPayload payload) override;
  DestroyReason read_end(CellPayload payload) override;
  void on_open() override;
  void on_rebuilt(LinkCircuit out, ClientOnion onion) override;
  void on_closed(DestroyReason reason) override;
  void on_detached() override;
  void on_tick(Nanos now, RandomSource& random) override;

  // Seals one cell of `type` for the other end and hands it to the carrier.
  SendOutcome send_cell(RelayType type, Bytes data);
  CellVerdict open_cell(CellPayload payload, RelayMessage& message);
  void set_state(State state, DestroyReason reason = DestroyReason::kRequested);

  CircuitCarrier* carrier_;  // null once closed
  LinkCircuit out_;
  EndCrypto crypto_;
  DatagramReceiver* receiver_ = nullptr;
  StateHandler state_handler_;
  State state_;
  DestroyReason close_reason_ = DestroyReason::kRequested;
  CoverTraffic cover_;
  std::uint64_t cover_received_ = 0;
  std::uint64_t cells_sealed_ = 0;
  std::uint64_t cells_opened_ = 0;
};

}  // namespace nyx::mix
