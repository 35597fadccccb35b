#pragma once
// The period every authority test runs in (proposal 0002, section 2.3): a
// 24 s period, so u = 2 s, and the moments of period q's timeline, in Unix
// seconds; and the link keys authorities and strangers speak from.

#include <array>
#include <cstdint>

#include "core/crypto/x25519.hpp"

namespace nyx::test::authority_timeline {

inline constexpr std::uint32_t kP = 24;  // u = 2 s
inline constexpr std::uint64_t kU = kP / 12;
inline constexpr std::uint64_t kQ = 70'000'000;
inline constexpr std::uint64_t kT = kQ * kP;  // 2023-03-28 10:40:00 UTC
inline constexpr std::uint64_t kUploadAt = kT - 17 * kU + 1;
inline constexpr std::uint64_t kSweepAt = kT - 5 * kU;
inline constexpr std::uint64_t kVoteAt = kT - 4 * kU;
inline constexpr std::uint64_t kComputeAt = kT - 3 * kU;
inline constexpr std::uint64_t kPublishAt = kT - 2 * kU;

// A link key from a fixed seed: `kind` keeps authorities and strangers apart.
inline crypto::X25519PublicKey link_of(std::uint8_t kind, int n) {
  std::array<std::uint8_t, 32> secret{};
  secret[0] = kind;
  secret[1] = static_cast<std::uint8_t>(n);
  return crypto::X25519KeyPair::from_secret(secret).public_key;
}
// Authority n's link key (1-based), as its directory.authorities entry names it.
inline crypto::X25519PublicKey authority_link(int n) { return link_of(0xA1, n); }
inline crypto::X25519PublicKey stranger_link() { return link_of(0x55, 1); }

}  // namespace nyx::test::authority_timeline
