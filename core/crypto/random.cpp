#include "core/crypto/random.hpp"

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"

namespace nyx::crypto {

void random_bytes(MutableBytes out) {
  detail::ensure_sodium();
  randombytes_buf(out.data(), out.size());
}

std::uint64_t random_u64() {
  detail::ensure_sodium();
  std::uint64_t value = 0;
  randombytes_buf(&value, sizeof value);
  return value;
}

std::uint32_t random_uniform(std::uint32_t upper_bound) {
  detail::ensure_sodium();
  return randombytes_uniform(upper_bound);
}

}  // namespace nyx::crypto
