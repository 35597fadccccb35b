#include "cli/bench_protocol.hpp"

#include <fmt/format.h>

namespace nyx::cli {

std::array<std::uint8_t, kRequestHeaderSize> encode_request_header(const RequestHeader& header) {
  std::array<std::uint8_t, kRequestHeaderSize> out{};
  store_be16(out.data(), kRequestMagic);
  out[2] = static_cast<std::uint8_t>(header.mode);
  store_be32(out.data() + 4, header.body_size);
  store_be64(out.data() + 8, header.response_size);
  return out;
}

Result<RequestHeader> parse_request_header(Bytes bytes) {
  if (bytes.size() != kRequestHeaderSize) {
    return make_error(ErrorCategory::kParse, fmt::format("bench request header is {} bytes, not {}",
                                                         bytes.size(), kRequestHeaderSize));
  }
  if (load_be16(bytes.data()) != kRequestMagic) {
    return make_error(ErrorCategory::kParse, "bench request header: bad magic");
  }
  const std::uint8_t mode = bytes[2];
  if (mode < static_cast<std::uint8_t>(BenchMode::kRequestResponse) ||
      mode > static_cast<std::uint8_t>(BenchMode::kIdle)) {
    return make_error(ErrorCategory::kParse, fmt::format("bench request: unknown mode {}", mode));
  }
  if (bytes[3] != 0) {
    return make_error(ErrorCategory::kParse, "bench request: reserved byte is not 0");
  }
  RequestHeader header;
  header.mode = static_cast<BenchMode>(mode);
  header.body_size = load_be32(bytes.data() + 4);
  header.response_size = load_be64(bytes.data() + 8);
  if (header.body_size > kMaxRequestBody) {
    return make_error(ErrorCategory::kParse,
                      fmt::format("bench request: body of {} bytes exceeds {}", header.body_size,
                                  kMaxRequestBody));
  }
  if (header.response_size > kMaxResponseSize) {
    return make_error(ErrorCategory::kParse,
                      fmt::format("bench request: response of {} bytes exceeds {}",
                                  header.response_size, kMaxResponseSize));
  }
  return header;
}

}  // namespace nyx::cli
