#pragma once
// A hop's side of the per-hop cell crypto of RELAY and CREATED cells
// (docs/protocol.md, "Data cells"): the UIV hop step, a tweakable
// wide-block encryption of the whole 1019-byte payload. The 16-byte head is
// enciphered by ET under a Poly1305 hash of the rest; the rest is XORed with
// ChaCha20 keyed by the enciphered head. A change to any bit makes the head,
// and with it everything after, fresh random bytes.
//
// Forward, the head deciphers to the hop's header, epoch (6) || slot (2) ||
// 0^8, written by the client: the zero bytes authenticate the cell and the
// (epoch, slot) pair feeds the replay window. Backward no hop shares keys
// with the cell's origin, so each hop puts 16 fresh random bytes of its own
// into its tweak, which makes its output independent of its input; the
// client checks the origin's counter. Relays only ever compute the forward
// direction of the step; the client (client_onion.hpp) only its inverse.
//
// Free functions are thread-safe; a TerminalCrypto has one owner.

#include <cstddef>
#include <cstdint>
#include <span>

#include "mix/cell.hpp"
#include "mix/hop_keys.hpp"
#include "mix/relay_cell.hpp"
#include "mix/slot_window.hpp"

namespace nyx::mix {

using CellPayload = std::span<std::uint8_t, kCellPayloadSize>;
// A backward hop's 16 fresh random bytes (r).
using HopNonce = std::span<const std::uint8_t, kHopHeaderSize>;

// Paths of up to this many hops fit the headers a cell carries.
inline constexpr std::size_t kMaxCellHops = 7;

enum class CellVerdict : std::uint8_t {
  kOk,
  kTampered,   // the header or the origin's check failed: destroy the circuit
  kReplayed,   // seen before: drop it; the circuit lives
  kTooOld,     // older than the window: drop it; the circuit lives
  kMalformed,  // it opened, but the plaintext is not a message
};

// A hop, forward (RELAY_FWD), in place. On kOk the payload is what goes on
// to the next hop; at the last hop its first kRelayPlainSize bytes are the
// plaintext region. The window is consulted before any keystream is made and
// marked only for a valid header.
CellVerdict relay_forward(const DirectionKeys& keys, CellCommand command, SlotWindow& window,
                          CellPayload payload) noexcept;

// A hop passing a DESTROY on downstream: the forward step with the DESTROY
// command and no window (the circuit is going). A header that does not
// check out gets 1019 fresh random bytes instead of a keystream. True when
// the header checked out (at the last hop, the plaintext region then holds
// the END).
bool relay_destroy_forward(const DirectionKeys& keys, CellPayload payload) noexcept;

// A hop, backward (BWD_HOP), in place, under its fresh random bytes `r`.
void relay_backward(const DirectionKeys& keys, CellCommand command, HopNonce r,
                    CellPayload payload) noexcept;

// A backward cell's origin (ORIGINATE): the last hop for every cell it sends,
// a hop refusing its onion key for its REFUSED. Precondition: data.size() <=
// kMaxRelayData.
void originate(const DirectionKeys& keys, CellCommand command, std::uint64_t counter,
               RelayType type, Bytes data, HopNonce r, CellPayload payload);

// The last hop's end of a circuit: its keys, its forward window and the
// counter of the backward cells it originates (0 is the CREATED).
class TerminalCrypto {
 public:
  explicit TerminalCrypto(HopKeys keys) noexcept : keys_(std::move(keys)) {}

  // A forward cell, in place; on kOk `message` points into the payload.
  CellVerdict open(CellCommand command, CellPayload payload, RelayMessage& message);
  // The reason the END in a DESTROY from upstream gives, or kUnknown.
  DestroyReason open_destroy(CellPayload payload) noexcept;
  // Originates the next backward cell. Precondition: data.size() <= kMaxRelayData.
  void seal(CellCommand command, RelayType type, Bytes data, CellPayload payload);

 private:
  HopKeys keys_;
  SlotWindow window_;
  std::uint64_t sent_ = 0;
};

}  // namespace nyx::mix
