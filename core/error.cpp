#include "core/error.hpp"

#include <fmt/format.h>

namespace nyx {

std::string_view to_string(ErrorCategory category) noexcept {
  switch (category) {
    case ErrorCategory::kInvalidArgument:
      return "invalid argument";
    case ErrorCategory::kParse:
      return "parse";
    case ErrorCategory::kCrypto:
      return "crypto";
    case ErrorCategory::kIo:
      return "io";
    case ErrorCategory::kTimeout:
      return "timeout";
    case ErrorCategory::kProtocol:
      return "protocol";
    case ErrorCategory::kResourceExhausted:
      return "resource exhausted";
    case ErrorCategory::kNotFound:
      return "not found";
    case ErrorCategory::kClosed:
      return "closed";
    case ErrorCategory::kPermission:
      return "permission";
    case ErrorCategory::kConfig:
      return "config";
    case ErrorCategory::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Error::to_string() const {
  if (code != 0) {
    return fmt::format("{}({}): {}", nyx::to_string(category), code, message);
  }
  return fmt::format("{}: {}", nyx::to_string(category), message);
}

}  // namespace nyx
