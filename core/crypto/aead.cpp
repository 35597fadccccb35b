#include "core/crypto/aead.hpp"

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"
#include "core/crypto/secret.hpp"

namespace nyx::crypto {

static_assert(kAeadKeySize == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadNonceSize == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadTagSize == crypto_aead_chacha20poly1305_ietf_ABYTES);
static_assert(kAeadKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kXaeadNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadTagSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);

namespace {

// libsodium's detached calls of both variants have one signature.
using EncryptDetached = decltype(&crypto_aead_chacha20poly1305_ietf_encrypt_detached);
using DecryptDetached = decltype(&crypto_aead_chacha20poly1305_ietf_decrypt_detached);

void seal_with(EncryptDetached encrypt, const std::uint8_t* key, const std::uint8_t* nonce,
               Bytes ad, Bytes plaintext, MutableBytes out) {
  if (out.size() != plaintext.size() + kAeadTagSize) {
    detail::precondition_failed("aead seal: out.size() != plaintext.size() + 16");
  }
  detail::ensure_sodium();
  // Detached form so that the tag lands after the ciphertext whether or not
  // out aliases plaintext.
  encrypt(out.data(), out.data() + plaintext.size(), nullptr, plaintext.data(), plaintext.size(),
          ad.data(), ad.size(), nullptr, nonce, key);
}

Status open_with(DecryptDetached decrypt, const std::uint8_t* key, const std::uint8_t* nonce,
                 Bytes ad, Bytes ciphertext, MutableBytes out) {
  if (ciphertext.size() < kAeadTagSize || out.size() != ciphertext.size() - kAeadTagSize) {
    return make_error(ErrorCategory::kInvalidArgument,
                      "aead open: out must be 16 bytes shorter than the ciphertext");
  }
  detail::ensure_sodium();
  const std::size_t length = ciphertext.size() - kAeadTagSize;
  // The tag is checked before anything is decrypted.
  if (decrypt(out.data(), nullptr, ciphertext.data(), length, ciphertext.data() + length, ad.data(),
              ad.size(), nonce, key) != 0) {
    sodium_memzero(out.data(), out.size());
    return make_error(ErrorCategory::kCrypto, "aead: authentication failed");
  }
  return {};
}

}  // namespace

void aead_seal(std::span<const std::uint8_t, kAeadKeySize> key,
               std::span<const std::uint8_t, kAeadNonceSize> nonce, Bytes ad, Bytes plaintext,
               MutableBytes out) {
  seal_with(&crypto_aead_chacha20poly1305_ietf_encrypt_detached, key.data(), nonce.data(), ad,
            plaintext, out);
}

void xaead_seal(std::span<const std::uint8_t, kAeadKeySize> key,
                std::span<const std::uint8_t, kXaeadNonceSize> nonce, Bytes ad, Bytes plaintext,
                MutableBytes out) {
  seal_with(&crypto_aead_xchacha20poly1305_ietf_encrypt_detached, key.data(), nonce.data(), ad,
            plaintext, out);
}

Status aead_open(std::span<const std::uint8_t, kAeadKeySize> key,
                 std::span<const std::uint8_t, kAeadNonceSize> nonce, Bytes ad, Bytes ciphertext,
                 MutableBytes out) {
  return open_with(&crypto_aead_chacha20poly1305_ietf_decrypt_detached, key.data(), nonce.data(),
                   ad, ciphertext, out);
}

Status xaead_open(std::span<const std::uint8_t, kAeadKeySize> key,
                  std::span<const std::uint8_t, kXaeadNonceSize> nonce, Bytes ad, Bytes ciphertext,
                  MutableBytes out) {
  return open_with(&crypto_aead_xchacha20poly1305_ietf_decrypt_detached, key.data(), nonce.data(),
                   ad, ciphertext, out);
}

}  // namespace nyx::crypto
