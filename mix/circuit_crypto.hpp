#pragma once
// Per-hop crypto of RELAY and CREATED cells (docs/protocol.md, "Data
// cells"). The payload of such a cell is nonce (16) | body (1003).
//
// A middle hop, either way: body ^= ChaCha20(key, nonce[0..12]); then
// nonce = P(nonce) with the direction's keyed permutation. The last hop opens
// (forward) or seals (backward) the body with ChaCha20-Poly1305 under its
// key and the nonce it sees; that tag is the end-to-end MAC. The client
// (ClientOnion) applies every layer at once. No public-key work per cell.
//
// Free functions are thread-safe; a ClientOnion has one owner.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "mix/cell.hpp"
#include "mix/hop_keys.hpp"
#include "mix/relay_cell.hpp"

namespace nyx::mix {

using CellPayload = std::span<std::uint8_t, kCellPayloadSize>;

enum class Direction : std::uint8_t { kForward, kBackward };

// One middle hop's layer, in place.
void relay_layer(const HopKeys& keys, Direction direction, CellPayload payload) noexcept;

// The last hop: opens a forward cell in place. kCrypto when the end-to-end
// MAC fails (the cell was tampered with: destroy the circuit); kProtocol for
// a malformed plaintext. The message's data points into `payload`.
Result<RelayMessage> terminal_open(const HopKeys& keys, CellPayload payload);
// The last hop: seals a backward cell under a fresh random nonce.
void terminal_seal(const HopKeys& keys, RelayType type, Bytes data, CellPayload payload);

// The client's side of a circuit's cell crypto: every hop's keys, entry first.
class ClientOnion {
 public:
  // Precondition: at least one hop (as build_create returns).
  explicit ClientOnion(std::vector<HopKeys> hops);

  std::size_t hops() const noexcept { return hops_.size(); }
  // Seals a forward cell for the last hop under a fresh random nonce.
  // Precondition: data.size() <= kMaxRelayData.
  void seal(RelayType type, Bytes data, CellPayload payload) const;
  // Removes every backward layer in place and checks the last hop's MAC
  // (kCrypto when it fails). The message's data points into `payload`.
  Result<RelayMessage> open(CellPayload payload) const;

  // The answer to CREATE as the client opens it: the message and the hop
  // that sealed it.
  struct Answer {
    std::size_t hop = 0;  // entry = 0
    RelayMessage message;
  };
  // Opens a CREATED (proposal 0002, section 8.5): first as open() does, which
  // is the last hop's answer and the common case, at no extra cost; when that
  // fails, under each earlier hop's backward key at that hop's position,
  // since a hop that refused its onion key sealed its answer itself. The
  // plaintext goes to `plain`, which the message's data points into;
  // `payload` is unspecified afterwards. kCrypto when no hop's key opens it;
  // kProtocol when one does but the plaintext is malformed.
  Result<Answer> open_created(CellPayload payload,
                              std::span<std::uint8_t, kRelayPlainSize> plain) const;

 private:
  // Removes hop `hop`'s backward layer in place: undoes its nonce
  // permutation, then its ChaCha20 under the nonce that hop saw.
  void remove_backward_layer(std::size_t hop, CellPayload payload) const;

  std::vector<HopKeys> hops_;
};

}  // namespace nyx::mix
