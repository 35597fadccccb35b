#pragma once
// Random bytes for per-cell use (the cell crypto's backward tweaks and the
// client's slot schedule): the kernel's CSPRNG read 4 KiB at a time into a
// per-thread pool, so a cell costs a copy instead of a getrandom call. Bytes
// handed out are wiped from the pool; the pool is wiped when its thread
// ends. Thread-safe (one pool per thread); not for long-term keys, which use
// core/crypto/random.hpp directly.

#include <cstdint>

#include "core/bytes.hpp"

namespace nyx::crypto {

void pooled_random_bytes(MutableBytes out) noexcept;
// Uniform in [0, bound) without modulo bias; precondition bound > 0.
std::uint32_t pooled_random_uniform(std::uint32_t bound) noexcept;

}  // namespace nyx::crypto
