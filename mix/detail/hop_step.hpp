#pragma once
// What the hop side (circuit_crypto.cpp) and the client side
// (client_onion.cpp) of the cell crypto agree on byte for byte
// (docs/protocol.md, "Data cells"): the headers' encodings and the ChaCha20
// nonce a hop step takes from its enciphered head.

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "core/bytes.hpp"
#include "core/crypto/chacha20.hpp"
#include "core/crypto/compare.hpp"
#include "mix/cell.hpp"
#include "mix/slot_schedule.hpp"
#include "mix/slot_window.hpp"

namespace nyx::mix::detail {

using HopHeader = std::array<std::uint8_t, kHopHeaderSize>;

inline constexpr std::array<std::uint8_t, 8> kZeroCheck{};

inline std::uint8_t command_byte(CellCommand command) noexcept {
  return static_cast<std::uint8_t>(command);
}

// The keystream of a step is keyed by the first 12 bytes of its enciphered head.
inline std::span<const std::uint8_t, crypto::kChaCha20NonceSize> cipher_nonce(
    const HopHeader& head) noexcept {
  return std::span(head).first<crypto::kChaCha20NonceSize>();
}

// Forward: BE48(epoch) || BE16(slot) || 0^8.
inline HopHeader forward_header(SlotPick pick) noexcept {
  HopHeader header{};
  store_be64(header.data(), (pick.epoch << 16) | pick.slot);
  return header;
}

// The (epoch, slot) of a valid forward header: 8 zero bytes (compared in
// constant time: they are the cell's authenticator) and a slot below W.
inline std::optional<SlotPick> parse_forward_header(const HopHeader& header) noexcept {
  if (!crypto::ct_equal(Bytes(header).subspan(8), kZeroCheck)) {
    return std::nullopt;
  }
  const std::uint64_t word = load_be64(header.data());
  const auto slot = static_cast<std::uint32_t>(word & 0xffff);
  if (slot >= kSlotsPerEpoch) {
    return std::nullopt;
  }
  return SlotPick{word >> 16, slot};
}

}  // namespace nyx::mix::detail
