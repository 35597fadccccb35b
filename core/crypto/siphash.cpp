#include "core/crypto/siphash.hpp"

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"

namespace nyx::crypto {

static_assert(kSipHashKeySize == crypto_shorthash_siphash24_KEYBYTES);
static_assert(crypto_shorthash_siphash24_BYTES == 8);

std::uint64_t siphash24(std::span<const std::uint8_t, kSipHashKeySize> key, Bytes in) noexcept {
  detail::ensure_sodium();
  static const std::uint8_t kEmpty = 0;  // libsodium declares every pointer non-null
  std::uint8_t out[8];
  crypto_shorthash_siphash24(out, in.empty() ? &kEmpty : in.data(), in.size(), key.data());
  return load_le64(out);
}

}  // namespace nyx::crypto
