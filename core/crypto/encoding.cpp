#include "core/crypto/encoding.hpp"

#include <algorithm>

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"

namespace nyx::crypto {

namespace {

constexpr int kBase64Variant = sodium_base64_VARIANT_ORIGINAL;

}  // namespace

std::string to_hex(Bytes bytes) {
  detail::ensure_sodium();
  std::string text(bytes.size() * 2 + 1, '\0');  // sodium_bin2hex writes a NUL
  sodium_bin2hex(text.data(), text.size(), bytes.data(), bytes.size());
  text.pop_back();
  return text;
}

std::string to_short_hex(Bytes bytes) {
  return to_hex(bytes.first(std::min<std::size_t>(bytes.size(), 4)));
}

std::string to_short_hex_list(std::span<const std::array<std::uint8_t, 32>> keys) {
  std::string out;
  for (const auto& key : keys) {
    out += (out.empty() ? "" : ", ") + to_short_hex(key);
  }
  return out;
}

Result<std::vector<std::uint8_t>> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) {
    return make_error(ErrorCategory::kParse, "hex: odd number of digits");
  }
  if (text.empty()) {
    return std::vector<std::uint8_t>{};  // libsodium wants a non-null output
  }
  detail::ensure_sodium();
  std::vector<std::uint8_t> bytes(text.size() / 2);
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &length,
                     &end) != 0 ||
      length != bytes.size()) {
    return make_error(ErrorCategory::kParse, "hex: not a hex digit");
  }
  return bytes;
}

std::string to_base64(Bytes bytes) {
  detail::ensure_sodium();
  std::string text(sodium_base64_ENCODED_LEN(bytes.size(), kBase64Variant), '\0');
  sodium_bin2base64(text.data(), text.size(), bytes.data(), bytes.size(), kBase64Variant);
  text.pop_back();  // the encoded length counts the NUL
  return text;
}

Result<std::vector<std::uint8_t>> from_base64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return make_error(ErrorCategory::kParse, "base64: length is not a multiple of 4");
  }
  if (text.empty()) {
    return std::vector<std::uint8_t>{};
  }
  detail::ensure_sodium();
  std::vector<std::uint8_t> bytes(text.size() / 4 * 3);
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &length,
                        &end, kBase64Variant) != 0 ||
      end != text.data() + text.size()) {
    return make_error(ErrorCategory::kParse, "base64: invalid character or padding");
  }
  bytes.resize(length);
  return bytes;
}

}  // namespace nyx::crypto
