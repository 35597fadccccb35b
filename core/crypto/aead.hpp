#pragma once
// ChaCha20-Poly1305 AEAD, IETF variant (RFC 8439 §2.8), on libsodium.
//
// Stateless and thread-safe. Ciphertext layout: encrypted bytes || 16-byte tag.
// Both calls work in place (out.data() == input data()).

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx::crypto {

constexpr std::size_t kAeadKeySize = 32;
constexpr std::size_t kAeadNonceSize = 12;
constexpr std::size_t kAeadTagSize = 16;

// Precondition: out.size() == plaintext.size() + kAeadTagSize.
void aead_seal(std::span<const std::uint8_t, kAeadKeySize> key,
               std::span<const std::uint8_t, kAeadNonceSize> nonce, Bytes ad, Bytes plaintext,
               MutableBytes out);

// Checks the tag (in constant time) and decrypts. Fails with kCrypto when the
// ciphertext, the associated data or the tag was altered (out is then all
// zero), and with kInvalidArgument when out.size() != ciphertext.size() - 16
// or the ciphertext is shorter than a tag.
Status aead_open(std::span<const std::uint8_t, kAeadKeySize> key,
                 std::span<const std::uint8_t, kAeadNonceSize> nonce, Bytes ad, Bytes ciphertext,
                 MutableBytes out);

}  // namespace nyx::crypto
