#pragma once
// Fixed keys and backward-hop random bytes for the cell-crypto fuzz targets:
// a fuzz input must mean the same thing on every run, so nothing is drawn.
// Hop `hop` of a target derives its keys from 32 bytes of (base + hop), and
// its backward r is 16 bytes of (base + hop).

#include <array>
#include <cstddef>
#include <cstdint>

#include "mix/cell.hpp"
#include "mix/hop_keys.hpp"

namespace nyx::fuzz {

inline mix::HopKeys fixed_hop_keys(std::uint8_t base, std::size_t hop) {
  std::array<std::uint8_t, 32> secret;
  secret.fill(static_cast<std::uint8_t>(base + hop));
  return mix::HopKeys::derive(secret);
}

inline std::array<std::uint8_t, mix::kHopHeaderSize> fixed_hop_nonce(std::uint8_t base,
                                                                     std::size_t hop) {
  std::array<std::uint8_t, mix::kHopHeaderSize> r;
  r.fill(static_cast<std::uint8_t>(base + hop));
  return r;
}

}  // namespace nyx::fuzz
