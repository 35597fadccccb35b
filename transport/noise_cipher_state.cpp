#include "transport/noise_cipher_state.hpp"

#include <algorithm>
#include <array>

namespace nyx::transport {
namespace {

std::array<std::uint8_t, crypto::kAeadNonceSize> encode_nonce(std::uint64_t n) noexcept {
  std::array<std::uint8_t, crypto::kAeadNonceSize> nonce{};
  store_le64(nonce.data() + 4, n);
  return nonce;
}

}  // namespace

void NoiseCipherState::initialize_key(std::span<const std::uint8_t, 32> key) noexcept {
  k_ = crypto::EphemeralSecret<crypto::kAeadKeySize>::from(key);
  has_key_ = true;
  n_ = 0;
}

Status NoiseCipherState::encrypt_with_ad(Bytes ad, Bytes plaintext, MutableBytes out) {
  if (!has_key_) {
    if (out.size() != plaintext.size()) {
      return make_error(ErrorCategory::kInvalidArgument, "noise: output size");
    }
    std::copy(plaintext.begin(), plaintext.end(), out.begin());
    return {};
  }
  auto status = encrypt_at(n_, ad, plaintext, out);
  if (status) {
    ++n_;
  }
  return status;
}

Status NoiseCipherState::decrypt_with_ad(Bytes ad, Bytes ciphertext, MutableBytes out) {
  if (!has_key_) {
    if (out.size() != ciphertext.size()) {
      return make_error(ErrorCategory::kInvalidArgument, "noise: output size");
    }
    std::copy(ciphertext.begin(), ciphertext.end(), out.begin());
    return {};
  }
  auto status = decrypt_at(n_, ad, ciphertext, out);
  if (status) {
    ++n_;
  }
  return status;
}

Status NoiseCipherState::encrypt_at(std::uint64_t n, Bytes ad, Bytes plaintext,
                                    MutableBytes out) const {
  if (!has_key_ || n == kMaxNonce) {
    return make_error(ErrorCategory::kProtocol, "noise: no key or nonce exhausted");
  }
  if (out.size() != plaintext.size() + kTagSize) {
    return make_error(ErrorCategory::kInvalidArgument, "noise: output size");
  }
  const auto nonce = encode_nonce(n);
  crypto::aead_seal(k_.span(), nonce, ad, plaintext, out);
  return {};
}

Status NoiseCipherState::decrypt_at(std::uint64_t n, Bytes ad, Bytes ciphertext,
                                    MutableBytes out) const {
  if (!has_key_ || n == kMaxNonce) {
    return make_error(ErrorCategory::kProtocol, "noise: no key or nonce exhausted");
  }
  const auto nonce = encode_nonce(n);
  return crypto::aead_open(k_.span(), nonce, ad, ciphertext, out);
}

}  // namespace nyx::transport
