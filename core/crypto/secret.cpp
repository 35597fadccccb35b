#include "core/crypto/secret.hpp"

#include <cstdio>
#include <cstdlib>

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"

namespace nyx::crypto::detail {

bool init_sodium() noexcept {
  // sodium_init() returns 1 when already initialised, -1 on failure (no
  // entropy source): without randomness no key is safe, so stop.
  if (sodium_init() < 0) {
    std::fputs("nyx: libsodium failed to initialise\n", stderr);
    std::abort();
  }
  return true;
}

void* secure_alloc(std::size_t size) {
  ensure_sodium();
  void* ptr = sodium_malloc(size);
  if (ptr == nullptr) {
    std::fputs("nyx: out of memory for secret key material\n", stderr);
    std::abort();
  }
  sodium_memzero(ptr, size);  // sodium_malloc fills with 0xdb
  return ptr;
}

void secure_free(void* ptr) noexcept { sodium_free(ptr); }

void secure_zero(void* ptr, std::size_t size) noexcept { sodium_memzero(ptr, size); }

void secure_random(void* ptr, std::size_t size) noexcept {
  ensure_sodium();
  randombytes_buf(ptr, size);
}

void precondition_failed(const char* what) noexcept {
  std::fprintf(stderr, "nyx: crypto precondition failed: %s\n", what);
  std::abort();
}

}  // namespace nyx::crypto::detail
