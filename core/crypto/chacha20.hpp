#pragma once
// The ChaCha20 stream cipher, IETF variant (RFC 8439 §2.4: 96-bit nonce,
// 32-bit block counter), on libsodium. Stateless and thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.hpp"

namespace nyx::crypto {

constexpr std::size_t kChaCha20KeySize = 32;
constexpr std::size_t kChaCha20NonceSize = 12;

// out = in XOR keystream(key, nonce) starting at block `counter`.
// Precondition: out.size() == in.size(); in place allowed.
void chacha20_xor(std::span<const std::uint8_t, kChaCha20KeySize> key,
                  std::span<const std::uint8_t, kChaCha20NonceSize> nonce, std::uint32_t counter,
                  Bytes in, MutableBytes out);

}  // namespace nyx::crypto
