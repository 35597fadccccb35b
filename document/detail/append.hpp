#pragma once
// Appending big-endian integers and byte strings to a growing encoding, and
// the message a context signature covers: shared by every document encoder
// of this layer.

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"

namespace nyx::document::detail {

// The low `bytes` bytes of `value`, most significant first.
inline void append_be(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
}

inline void append_bytes(std::vector<std::uint8_t>& out, Bytes bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// ctx || m: what Sign(k, ctx, m) signs (proposal 0002 section 2), so a
// signature made for one kind of document never verifies as another.
inline std::vector<std::uint8_t> signing_message(std::string_view context, Bytes message) {
  std::vector<std::uint8_t> out(context.begin(), context.end());
  append_bytes(out, message);
  return out;
}

}  // namespace nyx::document::detail
