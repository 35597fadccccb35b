#pragma once
// The one error type of Nyx, and Result<T> = std::expected<T, Error>.
//
// Every path fed by the network or by a user returns a Result; exceptions are
// for start-up and main() only. An Error carries a category (what kind of
// failure, for callers that branch on it), a code (layer-specific detail,
// e.g. a SOCKS reply code or an errno) and a message for people.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace nyx {

enum class ErrorCategory : std::uint8_t {
  kInvalidArgument,    // a caller passed something out of range
  kParse,              // bytes or text that do not follow their format
  kCrypto,             // authentication or key agreement failed
  kIo,                 // the operating system said no (code is errno)
  kTimeout,            // a deadline passed
  kProtocol,           // a peer broke the protocol's rules
  kResourceExhausted,  // a bound was reached (queue, window, table, rate)
  kNotFound,           // no such peer, circuit, stream, key, file
  kClosed,             // the object was closed or reset
  kPermission,         // refused by policy or by authentication
  kConfig,             // a configuration value is wrong
  kInternal,           // a bug: an invariant did not hold
};

std::string_view to_string(ErrorCategory category) noexcept;

struct Error {
  ErrorCategory category = ErrorCategory::kInternal;
  int code = 0;
  std::string message;

  // "parse: frame truncated" or "io(111): connection refused".
  std::string to_string() const;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

inline std::unexpected<Error> make_error(ErrorCategory category, std::string message,
                                         int code = 0) {
  return std::unexpected<Error>(Error{category, code, std::move(message)});
}

}  // namespace nyx
