#pragma once
// The one size every cell has on every link (docs/protocol.md, "Cells").
//
// It lives in core because the transport carries cells without knowing their
// contents and the mix layer gives them meaning; both need the same number.
// 1024 bytes of cell plus the UDP link framing (32 bytes) stays far below
// 1200 bytes, so a datagram crosses any IPv4 or IPv6 path unfragmented.

#include <cstddef>

namespace nyx {

inline constexpr std::size_t kCellSize = 1024;

}  // namespace nyx
