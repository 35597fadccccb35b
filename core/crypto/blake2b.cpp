#include "core/crypto/blake2b.hpp"

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"
#include "core/crypto/secret.hpp"

namespace nyx::crypto {

static_assert(kBlake2bMinOutSize == crypto_generichash_blake2b_BYTES_MIN);
static_assert(kBlake2bMaxOutSize == crypto_generichash_blake2b_BYTES_MAX);
static_assert(kBlake2bMaxKeySize == crypto_generichash_blake2b_KEYBYTES_MAX);

namespace {

constexpr std::string_view kKdfPrefix{"nyx-kdf-v1\0", 11};  // prefix || 0x00

void check_sizes(std::size_t out_len, std::size_t key_len) noexcept {
  if (out_len < kBlake2bMinOutSize || out_len > kBlake2bMaxOutSize) {
    detail::precondition_failed("blake2b: output must be 16..64 bytes");
  }
  if (key_len > kBlake2bMaxKeySize) {
    detail::precondition_failed("blake2b: key must be at most 64 bytes");
  }
}

}  // namespace

void blake2b(MutableBytes out, Bytes in, Bytes key) {
  check_sizes(out.size(), key.size());
  detail::ensure_sodium();
  crypto_generichash_blake2b(out.data(), out.size(), in.data(), in.size(),
                             key.empty() ? nullptr : key.data(), key.size());
}

Blake2b::Blake2b(std::size_t out_len, Bytes key) : out_len_(out_len) {
  static_assert(sizeof(state_) == sizeof(crypto_generichash_blake2b_state));
  static_assert(alignof(Blake2b) >= alignof(crypto_generichash_blake2b_state));
  check_sizes(out_len, key.size());
  detail::ensure_sodium();
  crypto_generichash_blake2b_init(
      reinterpret_cast<crypto_generichash_blake2b_state*>(state_.data()),
      key.empty() ? nullptr : key.data(), key.size(), out_len);
}

Blake2b::~Blake2b() { sodium_memzero(state_.data(), state_.size()); }

void Blake2b::update(Bytes data) {
  crypto_generichash_blake2b_update(
      reinterpret_cast<crypto_generichash_blake2b_state*>(state_.data()), data.data(), data.size());
}

void Blake2b::finish(MutableBytes out) {
  if (out.size() != out_len_) {
    detail::precondition_failed("Blake2b::finish: out.size() != out_len");
  }
  crypto_generichash_blake2b_final(
      reinterpret_cast<crypto_generichash_blake2b_state*>(state_.data()), out.data(), out.size());
}

void kdf(MutableBytes out, std::span<const std::uint8_t, kKdfKeySize> key, std::string_view label) {
  Blake2b hash(out.size(), key);
  hash.update(as_bytes(kKdfPrefix));
  hash.update(as_bytes(label));
  hash.finish(out);
}

}  // namespace nyx::crypto
