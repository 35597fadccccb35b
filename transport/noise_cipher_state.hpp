#pragma once
// Noise CipherState (Noise spec rev. 34, §5.1) for ChaChaPoly: a 32-byte key
// and a 64-bit nonce. The nonce is encoded as four zero bytes followed by the
// counter little-endian (§12.3). Without a key, encryption passes bytes
// through unchanged, as the spec says.
//
// Besides the spec's implicit counter (used over TCP) it offers encrypt_at /
// decrypt_at with an explicit nonce, which is SetNonce(n) followed by
// EncryptWithAd/DecryptWithAd without touching the stored counter: the UDP
// link carries the counter in every datagram.
//
// One owner; not thread-safe. The key is zeroed when destroyed.

#include <cstdint>
#include <span>

#include "core/bytes.hpp"
#include "core/crypto/aead.hpp"
#include "core/crypto/secret.hpp"
#include "core/error.hpp"

namespace nyx::transport {

class NoiseCipherState {
 public:
  static constexpr std::size_t kTagSize = crypto::kAeadTagSize;
  // 2^64-1 is reserved by the spec; reaching it is an error.
  static constexpr std::uint64_t kMaxNonce = ~std::uint64_t{0};

  NoiseCipherState() = default;

  void initialize_key(std::span<const std::uint8_t, 32> key) noexcept;
  bool has_key() const noexcept { return has_key_; }
  std::uint64_t nonce() const noexcept { return n_; }

  // out.size() must be plaintext.size() + 16 (or plaintext.size() without a
  // key). In place is allowed.
  Status encrypt_with_ad(Bytes ad, Bytes plaintext, MutableBytes out);
  // out.size() must be ciphertext.size() - 16 (or ciphertext.size() without a
  // key). Fails with kCrypto when authentication fails; the nonce then stays.
  Status decrypt_with_ad(Bytes ad, Bytes ciphertext, MutableBytes out);

  // Explicit-nonce forms (key required).
  Status encrypt_at(std::uint64_t n, Bytes ad, Bytes plaintext, MutableBytes out) const;
  Status decrypt_at(std::uint64_t n, Bytes ad, Bytes ciphertext, MutableBytes out) const;

 private:
  crypto::EphemeralSecret<crypto::kAeadKeySize> k_;
  bool has_key_ = false;
  std::uint64_t n_ = 0;
};

}  // namespace nyx::transport
