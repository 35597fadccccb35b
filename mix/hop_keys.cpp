#include "mix/hop_keys.hpp"

#include "core/crypto/blake2b.hpp"

namespace nyx::mix {

HopKeys HopKeys::derive(std::span<const std::uint8_t, crypto::kX25519KeySize> shared_secret) {
  HopKeys keys;
  crypto::kdf(keys.forward_key.mutable_span(), shared_secret, "mix-forward-key");
  crypto::kdf(keys.backward_key.mutable_span(), shared_secret, "mix-backward-key");
  crypto::EphemeralSecret<kNoncePermutationKeySize> perm;
  crypto::kdf(perm.mutable_span(), shared_secret, "mix-forward-nonce");
  keys.forward_nonce = NoncePermutation(perm.span());
  crypto::kdf(perm.mutable_span(), shared_secret, "mix-backward-nonce");
  keys.backward_nonce = NoncePermutation(perm.span());
  return keys;
}

}  // namespace nyx::mix
