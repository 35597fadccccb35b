#pragma once
// The keys a client shares with one hop of a circuit once CREATE has run,
// derived from their X25519 shared secret (docs/protocol.md, "Circuit
// keys"): per direction, the hop step's ChaCha20 key, its Poly1305 tweak
// hash key and ET's round keys.
//
// Owns secrets (zeroed when destroyed); move-only; one owner.

#include <span>

#include "core/crypto/chacha20.hpp"
#include "core/crypto/poly1305.hpp"
#include "core/crypto/secret.hpp"
#include "core/crypto/x25519.hpp"
#include "mix/cell_perm.hpp"

namespace nyx::mix {

struct DirectionKeys {
  crypto::EphemeralSecret<crypto::kChaCha20KeySize> stream;
  crypto::EphemeralSecret<crypto::kPoly1305KeySize> hash;
  CellPermutation perm;
};

struct HopKeys {
  DirectionKeys forward;
  DirectionKeys backward;

  static HopKeys derive(std::span<const std::uint8_t, crypto::kX25519KeySize> shared_secret);
};

}  // namespace nyx::mix
