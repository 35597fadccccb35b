#pragma once
// QUIC variable-length integers (RFC 9000, section 16): the two high bits of
// the first byte give the length (1, 2, 4 or 8 bytes), the rest is the value
// big-endian. Values go up to 2^62 - 1. Encoders here always pick the
// shortest form; the decoder accepts any form, as RFC 9000 does.

#include <cstddef>
#include <cstdint>

namespace nyx::stream::detail {

inline constexpr std::uint64_t kVarintMax = (std::uint64_t{1} << 62) - 1;

constexpr std::size_t varint_size(std::uint64_t v) noexcept {
  return v < 64 ? 1 : v < 16384 ? 2 : v < 1073741824 ? 4 : 8;
}

// Writes v (<= kVarintMax) at p, which has room for varint_size(v) bytes.
inline std::uint8_t* put_varint(std::uint8_t* p, std::uint64_t v) noexcept {
  if (v < 64) {
    *p = static_cast<std::uint8_t>(v);
    return p + 1;
  }
  if (v < 16384) {
    p[0] = static_cast<std::uint8_t>(0x40 | (v >> 8));
    p[1] = static_cast<std::uint8_t>(v);
    return p + 2;
  }
  if (v < 1073741824) {
    p[0] = static_cast<std::uint8_t>(0x80 | (v >> 24));
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
    return p + 4;
  }
  for (int i = 7; i >= 0; --i) {
    p[7 - i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  p[0] |= 0xc0;
  return p + 8;
}

// Reads one varint from [p, end); nullptr when it does not fit.
inline const std::uint8_t* get_varint(const std::uint8_t* p, const std::uint8_t* end,
                                      std::uint64_t& out) noexcept {
  if (p >= end) {
    return nullptr;
  }
  const std::size_t len = std::size_t{1} << (*p >> 6);
  if (static_cast<std::size_t>(end - p) < len) {
    return nullptr;
  }
  std::uint64_t v = *p & 0x3f;
  for (std::size_t i = 1; i < len; ++i) {
    v = (v << 8) | p[i];
  }
  out = v;
  return p + len;
}

}  // namespace nyx::stream::detail
