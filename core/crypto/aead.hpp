#pragma once
// ChaCha20-Poly1305 AEAD, IETF variant (RFC 8439 §2.8), and its extended-
// nonce form XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha: an HChaCha20
// subkey, then the same AEAD), on libsodium.
//
// The 24-byte nonce of the X variant is long enough to draw at random for
// every message, which is why the link cookie reply uses it
// (docs/protocol.md, "Cookie reply"). Stateless and thread-safe. Ciphertext
// layout: encrypted bytes || 16-byte tag. Every call works in place
// (out.data() == input data()).

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx::crypto {

constexpr std::size_t kAeadKeySize = 32;
constexpr std::size_t kAeadNonceSize = 12;
constexpr std::size_t kAeadTagSize = 16;
constexpr std::size_t kXaeadNonceSize = 24;

// Precondition: out.size() == plaintext.size() + kAeadTagSize.
void aead_seal(std::span<const std::uint8_t, kAeadKeySize> key,
               std::span<const std::uint8_t, kAeadNonceSize> nonce, Bytes ad, Bytes plaintext,
               MutableBytes out);
void xaead_seal(std::span<const std::uint8_t, kAeadKeySize> key,
                std::span<const std::uint8_t, kXaeadNonceSize> nonce, Bytes ad, Bytes plaintext,
                MutableBytes out);

// Checks the tag (in constant time) and decrypts. Fails with kCrypto when the
// ciphertext, the associated data or the tag was altered (out is then all
// zero), and with kInvalidArgument when out.size() != ciphertext.size() - 16
// or the ciphertext is shorter than a tag.
Status aead_open(std::span<const std::uint8_t, kAeadKeySize> key,
                 std::span<const std::uint8_t, kAeadNonceSize> nonce, Bytes ad, Bytes ciphertext,
                 MutableBytes out);
Status xaead_open(std::span<const std::uint8_t, kAeadKeySize> key,
                  std::span<const std::uint8_t, kXaeadNonceSize> nonce, Bytes ad, Bytes ciphertext,
                  MutableBytes out);

}  // namespace nyx::crypto
