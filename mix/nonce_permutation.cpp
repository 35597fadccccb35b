#include "mix/nonce_permutation.hpp"

#include <cstring>

#include <sodium.h>

namespace nyx::mix {
namespace {

// libsodium's crypto_shorthash is SipHash-2-4; core does not wrap it (see the
// mix section of docs/performance.md for why a keyed BLAKE2b is too slow here).
static_assert(crypto_shorthash_KEYBYTES == 16 && crypto_shorthash_BYTES == 8);

std::uint64_t round_function(const std::uint8_t* key, std::uint64_t half) noexcept {
  std::uint8_t in[8];
  std::uint8_t out[8];
  std::memcpy(in, &half, 8);
  crypto_shorthash(out, in, sizeof in, key);
  std::uint64_t v;
  std::memcpy(&v, out, 8);
  return v;
}

}  // namespace

void NoncePermutation::forward(std::span<std::uint8_t, 16> nonce) const noexcept {
  std::uint64_t left;
  std::uint64_t right;
  std::memcpy(&left, nonce.data(), 8);
  std::memcpy(&right, nonce.data() + 8, 8);
  for (int round = 0; round < 4; ++round) {
    std::uint64_t next = left ^ round_function(keys_.data() + 16 * round, right);
    left = right;
    right = next;
  }
  std::memcpy(nonce.data(), &left, 8);
  std::memcpy(nonce.data() + 8, &right, 8);
}

void NoncePermutation::inverse(std::span<std::uint8_t, 16> nonce) const noexcept {
  std::uint64_t left;
  std::uint64_t right;
  std::memcpy(&left, nonce.data(), 8);
  std::memcpy(&right, nonce.data() + 8, 8);
  for (int round = 3; round >= 0; --round) {
    std::uint64_t prev = right ^ round_function(keys_.data() + 16 * round, left);
    right = left;
    left = prev;
  }
  std::memcpy(nonce.data(), &left, 8);
  std::memcpy(nonce.data() + 8, &right, 8);
}

}  // namespace nyx::mix
