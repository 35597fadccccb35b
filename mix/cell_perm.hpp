#pragma once
// ET, the 128-bit tweakable permutation at the heart of a hop's cell step
// (docs/protocol.md, "Data cells"): a four-round Feistel network over two
// 8-byte halves whose round j computes SipHash-2-4 under round key j over
// the 16-byte tweak hash h, the half and the cell's command byte. A
// different (h, command) gives four independent round functions, so every
// tweak selects its own four-round Luby-Rackoff permutation: a strong PRP.
//
// Owns its round keys (wiped when destroyed); const calls are safe from any
// thread.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/crypto/secret.hpp"

namespace nyx::mix {

inline constexpr std::size_t kCellPermKeySize = 64;  // 4 rounds x 16 bytes
inline constexpr std::size_t kCellPermBlockSize = 16;

using TweakHash = std::span<const std::uint8_t, 16>;
using PermBlock = std::span<std::uint8_t, kCellPermBlockSize>;

class CellPermutation {
 public:
  CellPermutation() = default;
  explicit CellPermutation(std::span<const std::uint8_t, kCellPermKeySize> key) noexcept
      : keys_(crypto::EphemeralSecret<kCellPermKeySize>::from(key)) {}

  void encipher(TweakHash h, std::uint8_t command, PermBlock block) const noexcept;
  void decipher(TweakHash h, std::uint8_t command, PermBlock block) const noexcept;

 private:
  std::uint64_t round(int j, TweakHash h, std::uint64_t half, std::uint8_t command) const noexcept;

  crypto::EphemeralSecret<kCellPermKeySize> keys_;
};

}  // namespace nyx::mix
