#pragma once
// libsodium must be initialised before first use (sodium_init() also picks
// the fastest implementation for this CPU). Every crypto entry point calls
// ensure_sodium(): after the first call it costs one predictable branch on a
// function-local static, and it cannot be dropped by the static-library
// linker the way a static initializer in an unreferenced object file can.

namespace nyx::crypto::detail {

bool init_sodium() noexcept;  // aborts when libsodium cannot initialise

inline void ensure_sodium() noexcept {
  static const bool initialised = init_sodium();
  static_cast<void>(initialised);
}

}  // namespace nyx::crypto::detail
