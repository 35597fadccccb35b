#pragma once
// Secret key material: SecretBytes<N> for long-term keys, EphemeralSecret<N>
// for per-session and per-circuit keys.
//
// SecretBytes lives in sodium_malloc memory (guard pages, locked where the
// system allows, never swapped out on purpose), is move-only and is zeroed and
// freed when destroyed. EphemeralSecret is an inline array (no allocation, so
// cheap enough to make per circuit) that is zeroed when destroyed and when
// moved from. Neither can be copied by accident, and neither can be formatted
// or streamed: there is no fmt::formatter, no operator<< and no begin()/end(),
// so a key cannot reach a log line (tests/core/crypto_secret_test.cpp proves
// it at compile time). Neither type is thread-safe; each has one owner.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx::crypto {

namespace detail {
// Out of line so that sodium.h stays out of this widely included header.
void* secure_alloc(std::size_t size);  // zero-filled; aborts when out of memory
void secure_free(void* ptr) noexcept;
void secure_zero(void* ptr, std::size_t size) noexcept;
void secure_random(void* ptr, std::size_t size) noexcept;
// A broken precondition on a crypto call is a bug in the caller, never input:
// stop rather than continue with wrong sizes.
[[noreturn]] void precondition_failed(const char* what) noexcept;
}  // namespace detail

// Zeroes bytes that held secret material (a temporary key, an HMAC pad) in a
// way the compiler cannot drop as a dead store.
inline void secure_zero(MutableBytes bytes) noexcept {
  detail::secure_zero(bytes.data(), bytes.size());
}

template <std::size_t N>
class SecretBytes {
 public:
  static_assert(N > 0);
  static constexpr std::size_t kSize = N;

  // All zero bytes.
  SecretBytes() : data_(static_cast<std::uint8_t*>(detail::secure_alloc(N))) {}
  ~SecretBytes() { detail::secure_free(data_); }  // sodium_free zeroes before freeing

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      detail::secure_free(data_);
      data_ = std::exchange(other.data_, nullptr);
    }
    return *this;
  }

  static SecretBytes random() {
    SecretBytes s;
    detail::secure_random(s.data_, N);
    return s;
  }
  // Precondition: bytes.size() == N (a wrong size is a bug; use try_from for
  // sizes that come from outside).
  static SecretBytes from(Bytes bytes) {
    if (bytes.size() != N) {
      detail::precondition_failed("SecretBytes::from: wrong size");
    }
    SecretBytes s;
    std::copy(bytes.begin(), bytes.end(), s.data_);
    return s;
  }
  static Result<SecretBytes> try_from(Bytes bytes) {
    if (bytes.size() != N) {
      return make_error(ErrorCategory::kInvalidArgument, "secret has the wrong size");
    }
    return from(bytes);
  }

  // A moved-from SecretBytes holds no memory; using it is a bug.
  const std::uint8_t* data() const noexcept { return data_; }
  std::uint8_t* data() noexcept { return data_; }
  static constexpr std::size_t size() noexcept { return N; }
  std::span<const std::uint8_t, N> span() const noexcept {
    return std::span<const std::uint8_t, N>(data_, N);
  }
  std::span<std::uint8_t, N> mutable_span() noexcept {
    return std::span<std::uint8_t, N>(data_, N);
  }

 private:
  std::uint8_t* data_;
};

template <std::size_t N>
class EphemeralSecret {
 public:
  static_assert(N > 0);
  static constexpr std::size_t kSize = N;

  EphemeralSecret() noexcept = default;  // all zero bytes
  ~EphemeralSecret() { detail::secure_zero(bytes_.data(), N); }

  EphemeralSecret(const EphemeralSecret&) = delete;
  EphemeralSecret& operator=(const EphemeralSecret&) = delete;
  EphemeralSecret(EphemeralSecret&& other) noexcept : bytes_(other.bytes_) {
    detail::secure_zero(other.bytes_.data(), N);
  }
  EphemeralSecret& operator=(EphemeralSecret&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      detail::secure_zero(other.bytes_.data(), N);
    }
    return *this;
  }

  static EphemeralSecret random() noexcept {
    EphemeralSecret s;
    detail::secure_random(s.bytes_.data(), N);
    return s;
  }
  // Precondition: bytes.size() == N.
  static EphemeralSecret from(Bytes bytes) noexcept {
    if (bytes.size() != N) {
      detail::precondition_failed("EphemeralSecret::from: wrong size");
    }
    EphemeralSecret s;
    std::copy(bytes.begin(), bytes.end(), s.bytes_.begin());
    return s;
  }

  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::uint8_t* data() noexcept { return bytes_.data(); }
  static constexpr std::size_t size() noexcept { return N; }
  std::span<const std::uint8_t, N> span() const noexcept {
    return std::span<const std::uint8_t, N>(bytes_);
  }
  std::span<std::uint8_t, N> mutable_span() noexcept { return std::span<std::uint8_t, N>(bytes_); }

 private:
  std::array<std::uint8_t, N> bytes_{};
};

}  // namespace nyx::crypto
