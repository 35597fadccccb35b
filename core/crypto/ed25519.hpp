#pragma once
// Ed25519 (RFC 8032) signatures, on libsodium. Signs directory documents and
// node identities.
//
// The key pair owns its 64-byte libsodium secret (seed || public key) in
// SecretBytes. sign() and ed25519_verify() are thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.hpp"
#include "core/crypto/secret.hpp"

namespace nyx::crypto {

constexpr std::size_t kEd25519PublicKeySize = 32;
constexpr std::size_t kEd25519SeedSize = 32;
constexpr std::size_t kEd25519SecretKeySize = 64;
constexpr std::size_t kEd25519SignatureSize = 64;
using Ed25519PublicKey = std::array<std::uint8_t, kEd25519PublicKeySize>;
using Ed25519Signature = std::array<std::uint8_t, kEd25519SignatureSize>;

struct Ed25519KeyPair {
  SecretBytes<kEd25519SecretKeySize> secret;  // seed || public key
  Ed25519PublicKey public_key{};

  static Ed25519KeyPair generate();
  // Deterministic: the RFC 8032 secret key is the 32-byte seed.
  static Ed25519KeyPair from_seed(std::span<const std::uint8_t, kEd25519SeedSize> seed);

  // The 32-byte seed that from_seed() takes back: what a key file stores.
  std::span<const std::uint8_t, kEd25519SeedSize> seed() const noexcept {
    return secret.span().first<kEd25519SeedSize>();
  }

  Ed25519Signature sign(Bytes message) const;
};

// True when signature is public_key's valid signature of message.
bool ed25519_verify(std::span<const std::uint8_t, kEd25519PublicKeySize> public_key, Bytes message,
                    std::span<const std::uint8_t, kEd25519SignatureSize> signature);

}  // namespace nyx::crypto
