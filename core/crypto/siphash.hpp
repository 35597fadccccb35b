#pragma once
// SipHash-2-4, a fast keyed pseudorandom function with a 64-bit output, on
// libsodium (crypto_shorthash). For short inputs where a keyed BLAKE2b costs
// far more than the data is worth: the round function of the mix layer's
// nonce permutation, hash-flooding-resistant table keys. Not a MAC for
// messages an attacker can choose at length: use BLAKE2b or the AEAD there.
// Stateless and thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.hpp"

namespace nyx::crypto {

constexpr std::size_t kSipHashKeySize = 16;

// SipHash-2-4 of `in` under `key`, its 8 output bytes read little-endian.
std::uint64_t siphash24(std::span<const std::uint8_t, kSipHashKeySize> key, Bytes in) noexcept;

}  // namespace nyx::crypto
