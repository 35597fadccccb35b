#include "core/crypto/x25519.hpp"

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"

namespace nyx::crypto {

static_assert(kX25519KeySize == crypto_scalarmult_BYTES);
static_assert(kX25519KeySize == crypto_scalarmult_SCALARBYTES);

X25519KeyPair X25519KeyPair::generate() {
  X25519KeyPair pair{SecretBytes<kX25519KeySize>::random(), {}};
  x25519_base(pair.public_key, pair.secret.span());
  return pair;
}

X25519KeyPair X25519KeyPair::from_secret(std::span<const std::uint8_t, kX25519KeySize> secret) {
  X25519KeyPair pair{SecretBytes<kX25519KeySize>::from(secret), {}};
  x25519_base(pair.public_key, pair.secret.span());
  return pair;
}

Status x25519(std::span<std::uint8_t, kX25519KeySize> out,
              std::span<const std::uint8_t, kX25519KeySize> secret,
              std::span<const std::uint8_t, kX25519KeySize> peer_public) {
  detail::ensure_sodium();
  // libsodium returns -1 exactly when the result is all zero (a low-order
  // peer point), which would make the "shared" secret known to everyone.
  if (crypto_scalarmult(out.data(), secret.data(), peer_public.data()) != 0) {
    sodium_memzero(out.data(), out.size());
    return make_error(ErrorCategory::kCrypto, "x25519: peer public key is a low-order point");
  }
  return {};
}

void x25519_base(std::span<std::uint8_t, kX25519KeySize> out_public,
                 std::span<const std::uint8_t, kX25519KeySize> secret) {
  detail::ensure_sodium();
  crypto_scalarmult_base(out_public.data(), secret.data());
}

}  // namespace nyx::crypto
