#pragma once
// Cryptographically secure random numbers (libsodium's randombytes, i.e. the
// kernel's getrandom). Thread-safe.

#include <cstdint>

#include "core/bytes.hpp"

namespace nyx::crypto {

void random_bytes(MutableBytes out);
std::uint64_t random_u64();
// Uniform in [0, upper_bound) without modulo bias; 0 when upper_bound < 2.
std::uint32_t random_uniform(std::uint32_t upper_bound);

}  // namespace nyx::crypto
