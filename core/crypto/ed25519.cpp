#include "core/crypto/ed25519.hpp"

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"

namespace nyx::crypto {

static_assert(kEd25519PublicKeySize == crypto_sign_PUBLICKEYBYTES);
static_assert(kEd25519SecretKeySize == crypto_sign_SECRETKEYBYTES);
static_assert(kEd25519SeedSize == crypto_sign_SEEDBYTES);
static_assert(kEd25519SignatureSize == crypto_sign_BYTES);

Ed25519KeyPair Ed25519KeyPair::generate() {
  detail::ensure_sodium();
  Ed25519KeyPair pair;
  crypto_sign_keypair(pair.public_key.data(), pair.secret.data());
  return pair;
}

Ed25519KeyPair Ed25519KeyPair::from_seed(std::span<const std::uint8_t, kEd25519SeedSize> seed) {
  detail::ensure_sodium();
  Ed25519KeyPair pair;
  crypto_sign_seed_keypair(pair.public_key.data(), pair.secret.data(), seed.data());
  return pair;
}

Ed25519Signature Ed25519KeyPair::sign(Bytes message) const {
  detail::ensure_sodium();
  Ed25519Signature signature{};
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret.data());
  return signature;
}

bool ed25519_verify(std::span<const std::uint8_t, kEd25519PublicKeySize> public_key, Bytes message,
                    std::span<const std::uint8_t, kEd25519SignatureSize> signature) {
  detail::ensure_sodium();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     public_key.data()) == 0;
}

}  // namespace nyx::crypto
