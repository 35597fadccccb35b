#include "core/crypto/chacha20.hpp"

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"
#include "core/crypto/secret.hpp"

namespace nyx::crypto {

static_assert(kChaCha20KeySize == crypto_stream_chacha20_ietf_KEYBYTES);
static_assert(kChaCha20NonceSize == crypto_stream_chacha20_ietf_NONCEBYTES);

void chacha20_xor(std::span<const std::uint8_t, kChaCha20KeySize> key,
                  std::span<const std::uint8_t, kChaCha20NonceSize> nonce, std::uint32_t counter,
                  Bytes in, MutableBytes out) {
  if (out.size() != in.size()) {
    detail::precondition_failed("chacha20_xor: out.size() != in.size()");
  }
  if (in.empty()) {
    return;  // libsodium declares every pointer non-null
  }
  detail::ensure_sodium();
  crypto_stream_chacha20_ietf_xor_ic(out.data(), in.data(), in.size(), nonce.data(), counter,
                                     key.data());
}

}  // namespace nyx::crypto
