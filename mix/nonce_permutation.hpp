#pragma once
// The keyed permutation a hop applies to a data cell's 16-byte nonce: a
// 4-round Feistel network over two 8-byte halves whose round function is
// SipHash-2-4 under one 16-byte key per round (docs/protocol.md, "Data
// cells"). Four rounds make it a strong pseudorandom permutation (Luby-
// Rackoff), so a nonce as it leaves a hop cannot be linked to the nonce as
// it arrived without the key, and the client can invert it.
//
// Owns its round keys (zeroed when destroyed); one owner, not thread-safe
// to mutate, const calls are safe from any thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/crypto/secret.hpp"

namespace nyx::mix {

inline constexpr std::size_t kNoncePermutationKeySize = 64;  // 4 rounds x 16 bytes

class NoncePermutation {
 public:
  NoncePermutation() = default;
  explicit NoncePermutation(std::span<const std::uint8_t, kNoncePermutationKeySize> key) noexcept
      : keys_(crypto::EphemeralSecret<kNoncePermutationKeySize>::from(key)) {}

  void forward(std::span<std::uint8_t, 16> nonce) const noexcept;
  void inverse(std::span<std::uint8_t, 16> nonce) const noexcept;

 private:
  crypto::EphemeralSecret<kNoncePermutationKeySize> keys_;
};

}  // namespace nyx::mix
