#pragma once
// Constant-time comparison for MACs, tags and secrets.

#include "core/bytes.hpp"

namespace nyx::crypto {

// True when a and b hold the same bytes. For equal lengths the time depends
// only on the length, never on the contents; different lengths return false
// at once (lengths are not secret).
bool ct_equal(Bytes a, Bytes b) noexcept;

}  // namespace nyx::crypto
