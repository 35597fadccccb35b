#pragma once
// The fields that open every voting document (proposal 0002 sections 3.3 to
// 3.5): magic (6) || version (1), and period_seconds (4), which must be a P
// that section 2.1 allows. Shared by the vote, consensus and signature
// message parsers and encoders. Failures are kParse "<field>: <reason>";
// the caller names the document.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "document/detail/append.hpp"
#include "document/period.hpp"

namespace nyx::document::detail {

inline void append_magic(std::vector<std::uint8_t>& out, std::string_view magic,
                         std::uint8_t version) {
  append_bytes(out, as_bytes(magic));
  out.push_back(version);
}

inline Status read_magic(ByteReader& reader, std::string_view magic, std::uint8_t version) {
  Bytes read;
  if (!reader.read_bytes(magic.size(), read)) {
    return make_error(ErrorCategory::kParse, "magic: truncated");
  }
  if (std::string_view(reinterpret_cast<const char*>(read.data()), read.size()) != magic) {
    return make_error(ErrorCategory::kParse, fmt::format("magic: not \"{}\"", magic));
  }
  std::uint8_t got = 0;
  if (!reader.read_u8(got)) {
    return make_error(ErrorCategory::kParse, "version: truncated");
  }
  if (got != version) {
    return make_error(ErrorCategory::kParse, fmt::format("version: {}, expected {}", got, version));
  }
  return {};
}

// Null when `seconds` is a P of section 2.1, else why not.
inline std::optional<std::string> period_seconds_fault(std::uint64_t seconds) {
  auto period = Period::from_seconds(seconds);
  if (period) {
    return std::nullopt;
  }
  return "period_seconds: " + period.error().message;
}

inline Status read_period_seconds(ByteReader& reader, std::uint32_t& out) {
  if (!reader.read_be32(out)) {
    return make_error(ErrorCategory::kParse, "period_seconds: truncated");
  }
  if (auto fault = period_seconds_fault(out)) {
    return make_error(ErrorCategory::kParse, std::move(*fault));
  }
  return {};
}

}  // namespace nyx::document::detail
