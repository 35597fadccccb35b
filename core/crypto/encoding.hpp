#pragma once
// Hex and base64 text encodings of keys and signatures (config files, the
// directory, the command line). Constant-time codecs from libsodium, so that
// decoding a secret does not leak it through timing. Thread-safe.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx::crypto {

// Lower-case hex.
std::string to_hex(Bytes bytes);
// The first 4 bytes (or fewer) as lower-case hex: how logs and refusals
// name a key, a node or a digest without printing it whole.
std::string to_short_hex(Bytes bytes);
// Each key by to_short_hex, separated by ", " (empty for none).
std::string to_short_hex_list(std::span<const std::array<std::uint8_t, 32>> keys);
// Accepts upper and lower case; no separators or whitespace. kParse on an odd
// length or a non-hex character.
Result<std::vector<std::uint8_t>> from_hex(std::string_view text);

// Standard base64 alphabet (RFC 4648 §4) with '=' padding.
std::string to_base64(Bytes bytes);
// Exactly what to_base64 produces: padded, no whitespace. kParse otherwise.
Result<std::vector<std::uint8_t>> from_base64(std::string_view text);

}  // namespace nyx::crypto
