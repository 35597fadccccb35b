#pragma once
// BLAKE2b (RFC 7693) hashing, keyed hashing and Nyx's KDF, on libsodium.
//
// blake2b() and kdf() are stateless and thread-safe. A Blake2b object is an
// incremental hash with one owner; its state is zeroed when destroyed (it may
// hold a key).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/bytes.hpp"

namespace nyx::crypto {

constexpr std::size_t kBlake2bMinOutSize = 16;
constexpr std::size_t kBlake2bMaxOutSize = 64;
constexpr std::size_t kBlake2bMaxKeySize = 64;
constexpr std::size_t kKdfKeySize = 32;

// out = BLAKE2b-(8*out.size())(key, in). Preconditions: 16 <= out.size() <= 64,
// key.size() <= 64.
void blake2b(MutableBytes out, Bytes in, Bytes key = {});

class Blake2b {
 public:
  // Preconditions as for blake2b().
  explicit Blake2b(std::size_t out_len, Bytes key = {});
  ~Blake2b();
  Blake2b(const Blake2b&) = delete;
  Blake2b& operator=(const Blake2b&) = delete;

  void update(Bytes data);
  // Precondition: out.size() == out_len; call once.
  void finish(MutableBytes out);

 private:
  // Holds libsodium's crypto_generichash_blake2b_state (384 bytes, 64-aligned)
  // without including sodium.h here; the .cpp checks size and alignment.
  alignas(64) std::array<std::uint8_t, 384> state_;
  std::size_t out_len_;
};

// Derives out.size() bytes (16..64) for `label` from a 32-byte key:
//   out = BLAKE2b-(8*out.size())(key, "nyx-kdf-v1" || 0x00 || label)
// (docs/protocol.md, "Crypto primitives"). Different labels or lengths give
// independent subkeys.
void kdf(MutableBytes out, std::span<const std::uint8_t, kKdfKeySize> key, std::string_view label);

}  // namespace nyx::crypto
