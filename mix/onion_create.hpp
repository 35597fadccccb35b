#pragma once
// One-round-trip circuit setup, Sphinx style over X25519 (docs/protocol.md,
// "CREATE"): the client builds one CREATE payload for the whole path; each
// hop does one DH with its onion key (trying its held keys in the order of
// proposal 0002, section 7.3), checks the header MAC in constant time and
// that key's replay store, learns the next hop and its circuit keys, blinds the
// group element, shifts and decrypts the routing information and
// re-randomises the rest, so that the payload keeps its size and cannot be
// linked across a hop.
//
// Free functions; thread-safe except for the OnionKeyRing each call mutates.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "mix/cell.hpp"
#include "mix/hop_keys.hpp"
#include "mix/onion_key_ring.hpp"

namespace nyx::mix {

inline constexpr std::size_t kAlphaSize = 32;
inline constexpr std::size_t kGammaSize = 16;
inline constexpr std::size_t kRoutingSize = 1 + 32 + kGammaSize;  // flag, next link key, MAC
inline constexpr std::size_t kCreateMaxHops = 7;
inline constexpr std::size_t kBetaSize = kCreateMaxHops * kRoutingSize;  // 343
inline constexpr std::size_t kCreateTailSize =
    kCellPayloadSize - kAlphaSize - kGammaSize - kBetaSize;  // 628

using CreatePayload = std::array<std::uint8_t, kCellPayloadSize>;

// Error codes of CREATE processing. (2 was "key closed", which is now an
// outcome: CreateAction::kRefuse.)
enum class CreateErrc : int {
  kReplay = 1,      // kPermission: the tag is in the opening key's store
  kBadMac = 3,      // kCrypto: no held onion key opens the header
  kBadRouting = 4,  // kProtocol: the routing information is malformed
  kLowOrder = 5,    // kCrypto: alpha is a low-order point
  kZeroTag = 6,     // kCrypto: the replay tag is the stores' empty-slot marker
};

enum class RoutingFlag : std::uint8_t {
  kForward = 1,   // relay the CREATE to the next hop
  kTerminal = 2,  // this hop ends the circuit
};

// One hop as the client sees it in the directory.
struct OnionHop {
  crypto::X25519PublicKey onion_key{};
  crypto::X25519PublicKey link_key{};
};

struct ClientCreate {
  CreatePayload payload{};
  std::vector<HopKeys> keys;  // one per hop, entry first
};

// Builds the CREATE payload for 1..7 hops. kInvalidArgument for another
// count, kCrypto when an onion key is a low-order point.
Result<ClientCreate> build_create(std::span<const OnionHop> hops);

// What a hop does with a CREATE it opened.
enum class CreateAction : std::uint8_t {
  kForward,   // send `payload` on to next_link_key
  kTerminal,  // this hop ends the circuit: answer CREATED
  kRefuse,    // the opening key is closed: answer REFUSED sealed under `keys`
              // (proposal 0002, section 8.5) and keep nothing
};

struct CreateOutcome {
  CreateAction action = CreateAction::kForward;
  crypto::X25519PublicKey next_link_key{};  // kForward
  std::uint64_t epoch = 0;                  // of the onion key that opened it
  HopKeys keys;
};

// Processes a CREATE payload at a hop (steps 1 to 5 of proposal 0002,
// section 7.3). A fresh CREATE under an accepting key has its tag stored
// before this returns; one under a closed key comes back as kRefuse with
// nothing stored and `payload` untouched. For kForward, `payload` holds the
// CREATE payload for the next hop. Errors (codes CreateErrc): kCrypto
// (kBadMac: no held key opens it, e.g. a wrong or erased key; kLowOrder;
// kZeroTag), kPermission (kReplay), kProtocol (kBadRouting). `payload` is
// unspecified on error.
Result<CreateOutcome> process_create(OnionKeyRing& ring,
                                     std::span<std::uint8_t, kCellPayloadSize> payload);

}  // namespace nyx::mix
