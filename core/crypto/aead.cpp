#include "core/crypto/aead.hpp"

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"
#include "core/crypto/secret.hpp"

namespace nyx::crypto {

static_assert(kAeadKeySize == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadNonceSize == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadTagSize == crypto_aead_chacha20poly1305_ietf_ABYTES);

void aead_seal(std::span<const std::uint8_t, kAeadKeySize> key,
               std::span<const std::uint8_t, kAeadNonceSize> nonce, Bytes ad, Bytes plaintext,
               MutableBytes out) {
  if (out.size() != plaintext.size() + kAeadTagSize) {
    detail::precondition_failed("aead_seal: out.size() != plaintext.size() + 16");
  }
  detail::ensure_sodium();
  // Detached form so that the tag lands after the ciphertext whether or not
  // out aliases plaintext.
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(
      out.data(), out.data() + plaintext.size(), nullptr, plaintext.data(), plaintext.size(),
      ad.data(), ad.size(), nullptr, nonce.data(), key.data());
}

Status aead_open(std::span<const std::uint8_t, kAeadKeySize> key,
                 std::span<const std::uint8_t, kAeadNonceSize> nonce, Bytes ad, Bytes ciphertext,
                 MutableBytes out) {
  if (ciphertext.size() < kAeadTagSize || out.size() != ciphertext.size() - kAeadTagSize) {
    return make_error(ErrorCategory::kInvalidArgument,
                      "aead_open: out must be 16 bytes shorter than the ciphertext");
  }
  detail::ensure_sodium();
  const std::size_t length = ciphertext.size() - kAeadTagSize;
  // The tag is checked before anything is decrypted.
  if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
          out.data(), nullptr, ciphertext.data(), length, ciphertext.data() + length, ad.data(),
          ad.size(), nonce.data(), key.data()) != 0) {
    sodium_memzero(out.data(), out.size());
    return make_error(ErrorCategory::kCrypto, "aead: authentication failed");
  }
  return {};
}

}  // namespace nyx::crypto
