#pragma once
// Poly1305 (RFC 8439 §2.5) as a keyed hash: the cell crypto uses its
// polynomial as an almost-Δ-universal hash whose output never leaves the
// hop (docs/protocol.md, "Data cells"), never as a one-time MAC on the wire.
// One-shot and incremental; the incremental state is wiped when destroyed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.hpp"

namespace nyx::crypto {

constexpr std::size_t kPoly1305KeySize = 32;  // r || s
constexpr std::size_t kPoly1305Size = 16;

using Poly1305Key = std::span<const std::uint8_t, kPoly1305KeySize>;
using Poly1305Out = std::span<std::uint8_t, kPoly1305Size>;

void poly1305(Poly1305Key key, Bytes in, Poly1305Out out) noexcept;

class Poly1305 {
 public:
  explicit Poly1305(Poly1305Key key) noexcept;
  ~Poly1305();
  Poly1305(const Poly1305&) = delete;
  Poly1305& operator=(const Poly1305&) = delete;

  void update(Bytes data) noexcept;
  // Call once.
  void finish(Poly1305Out out) noexcept;

 private:
  // libsodium's crypto_onetimeauth_poly1305_state (256 bytes, 16-aligned),
  // held without including sodium.h here; the .cpp checks both.
  alignas(16) std::array<std::uint8_t, 256> state_;
};

}  // namespace nyx::crypto
