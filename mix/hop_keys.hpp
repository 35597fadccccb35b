#pragma once
// The keys a client shares with one hop of a circuit once CREATE has run,
// derived from their X25519 shared secret (docs/protocol.md, "Circuit
// keys"): a ChaCha20 key and a nonce permutation per direction. The last hop
// uses the ChaCha20 keys as ChaCha20-Poly1305 keys for the end-to-end MAC.
//
// Owns secrets (zeroed when destroyed); move-only; one owner.

#include <span>

#include "core/crypto/chacha20.hpp"
#include "core/crypto/secret.hpp"
#include "core/crypto/x25519.hpp"
#include "mix/nonce_permutation.hpp"

namespace nyx::mix {

struct HopKeys {
  crypto::EphemeralSecret<crypto::kChaCha20KeySize> forward_key;
  crypto::EphemeralSecret<crypto::kChaCha20KeySize> backward_key;
  NoncePermutation forward_nonce;
  NoncePermutation backward_nonce;

  static HopKeys derive(std::span<const std::uint8_t, crypto::kX25519KeySize> shared_secret);
};

}  // namespace nyx::mix
