#pragma once
// X25519 (RFC 7748) key pairs and Diffie-Hellman, on libsodium.
//
// A key pair owns its secret in SecretBytes; functions are thread-safe (no
// shared state).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/crypto/secret.hpp"
#include "core/error.hpp"

namespace nyx::crypto {

constexpr std::size_t kX25519KeySize = 32;
using X25519PublicKey = std::array<std::uint8_t, kX25519KeySize>;

struct X25519KeyPair {
  SecretBytes<kX25519KeySize> secret;
  X25519PublicKey public_key{};

  static X25519KeyPair generate();
  static X25519KeyPair from_secret(std::span<const std::uint8_t, kX25519KeySize> secret);
};

// out = X25519(secret, peer_public). Fails with kCrypto (and out zeroed) when
// the shared secret is all zero, i.e. the peer sent a low-order point.
Status x25519(std::span<std::uint8_t, kX25519KeySize> out,
              std::span<const std::uint8_t, kX25519KeySize> secret,
              std::span<const std::uint8_t, kX25519KeySize> peer_public);

// out_public = X25519(secret, 9): the public key of a secret.
void x25519_base(std::span<std::uint8_t, kX25519KeySize> out_public,
                 std::span<const std::uint8_t, kX25519KeySize> secret);

}  // namespace nyx::crypto
