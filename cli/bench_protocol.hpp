#pragma once
// The origin protocol of `nyxctl bench serve` (docs/performance.md, "End to
// end"): the client sends a 16-byte request header, then `body_size` bytes
// it wants the server to read and drop; the server answers with exactly
// `response_size` bytes. The server treats every mode alike; the mode says
// what the client is measuring (request/response, one bulk download, or a
// stream held idle after one small exchange), for traces and counters. A
// connection carries any number of requests one after another.
//
//   offset  size  field
//   0       2     magic "NB" (0x4E 0x42)
//   2       1     mode: 1 request/response, 2 bulk, 3 idle
//   3       1     reserved, 0
//   4       4     body_size, big-endian, at most kMaxRequestBody
//   8       8     response_size, big-endian, at most kMaxResponseSize
//
// Pure functions, thread-safe.
#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx::cli {

inline constexpr std::size_t kRequestHeaderSize = 16;
inline constexpr std::uint16_t kRequestMagic = 0x4E42;
inline constexpr std::uint32_t kMaxRequestBody = 16U << 20;
inline constexpr std::uint64_t kMaxResponseSize = std::uint64_t{1} << 40;

enum class BenchMode : std::uint8_t { kRequestResponse = 1, kBulk = 2, kIdle = 3 };

struct RequestHeader {
  BenchMode mode = BenchMode::kRequestResponse;
  std::uint32_t body_size = 0;
  std::uint64_t response_size = 0;

  bool operator==(const RequestHeader&) const = default;
};

std::array<std::uint8_t, kRequestHeaderSize> encode_request_header(const RequestHeader& header);

// kParse for a wrong size or magic, an unknown mode, a non-zero reserved
// byte or a size beyond its bound.
Result<RequestHeader> parse_request_header(Bytes bytes);

}  // namespace nyx::cli
