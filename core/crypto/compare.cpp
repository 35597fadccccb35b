#include "core/crypto/compare.hpp"

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"

namespace nyx::crypto {

bool ct_equal(Bytes a, Bytes b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  detail::ensure_sodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace nyx::crypto
