#pragma once
// Helpers the directory request and reply decoders share (proposal 0002
// sections 4.3 and 4.4): their kParse errors, which carry a
// DirectoryStreamErrc code, the "not all here yet" test of an incremental
// decoder, the version byte both messages open with, the big-endian length
// fields, and the end-of-stream rule (the message complete, nothing after it).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "document/directory_stream.hpp"

namespace nyx::document::detail {

// kParse "<what>: <why>" with `code`; `what` names the message ("directory
// request", "directory reply").
inline std::unexpected<Error> stream_error(std::string_view what, DirectoryStreamErrc code,
                                           std::string_view why) {
  return make_error(ErrorCategory::kParse, fmt::format("{}: {}", what, why),
                    static_cast<int>(code));
}

// The bytes missing before the first `size` are all in, or nothing.
inline std::optional<NeedMore> missing(Bytes received, std::size_t size) {
  if (received.size() < size) {
    return NeedMore{size - received.size()};
  }
  return std::nullopt;
}

// What the header of a message (version, then type or status) settles on its
// own: the bytes still missing before it is all in, or a version other than
// ours; nothing when the decoder can go on to the second byte.
template <typename T>
std::optional<Result<DecodeProgress<T>>> header_outcome(std::string_view what, Bytes received) {
  if (auto need = missing(received, kDirectoryHeaderSize)) {
    return *need;
  }
  if (received[0] != kDirectoryStreamVersion) {
    return stream_error(
        what, DirectoryStreamErrc::kBadVersion,
        fmt::format("version: {}, expected {}", received[0], kDirectoryStreamVersion));
  }
  return std::nullopt;
}

// The big-endian integer of `width` (1, 2 or 4) bytes at `at`; the caller
// made sure they are there.
inline std::size_t load_length(Bytes received, std::size_t at, std::size_t width) {
  std::size_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value = (value << 8) | received[at + i];
  }
  return value;
}

// Checks a length field against [min, max] before anything it announces is
// read or allocated.
inline std::optional<std::unexpected<Error>> length_fault(std::string_view what,
                                                          std::string_view field,
                                                          std::size_t length, std::size_t min,
                                                          std::size_t max) {
  if (length < min || length > max) {
    return stream_error(what, DirectoryStreamErrc::kLengthOutOfBounds,
                        fmt::format("{}: {} bytes, expected {} to {}", field, length, min, max));
  }
  return std::nullopt;
}

// The message of a stream that has ended (FIN): `progress`, what the decoder
// made of all `received_size` bytes, must be a complete message that used
// every byte. `message` names it in the trailing-bytes error ("request",
// "reply").
template <typename T>
Result<T> complete_at_fin(std::string_view what, std::string_view message,
                          Result<DecodeProgress<T>> progress, std::size_t received_size) {
  if (!progress) {
    return std::unexpected(std::move(progress.error()));
  }
  if (const auto* need = std::get_if<NeedMore>(&*progress)) {
    return stream_error(
        what, DirectoryStreamErrc::kTruncated,
        fmt::format("truncated: the stream ended {} bytes short at least", need->bytes));
  }
  auto& decoded = std::get<Decoded<T>>(*progress);
  if (decoded.consumed != received_size) {
    return stream_error(
        what, DirectoryStreamErrc::kTrailingBytes,
        fmt::format("{} bytes after the {}", received_size - decoded.consumed, message));
  }
  return std::move(decoded.value);
}

}  // namespace nyx::document::detail
