#include "mix/nonce_permutation.hpp"

#include <cstring>

#include "core/bytes.hpp"
#include "core/crypto/siphash.hpp"

namespace nyx::mix {
namespace {

// SipHash-2-4: a keyed BLAKE2b here would cost more than the cell's whole
// ChaCha20 layer (docs/performance.md, "Mix").
std::uint64_t round_function(const std::uint8_t* key, std::uint64_t half) noexcept {
  std::uint8_t in[8];
  store_le64(in, half);
  return crypto::siphash24(std::span<const std::uint8_t, crypto::kSipHashKeySize>(key, 16),
                           Bytes(in, sizeof in));
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
