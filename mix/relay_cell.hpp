#pragma once
// The end-to-end plaintext of a RELAY or CREATED cell, as the client and the
// last hop see it once every layer is off (docs/protocol.md, "Data cells"):
// type (1) | length (2) | data | zero padding, kRelayPlainSize bytes, sealed
// with ChaCha20-Poly1305 into the kCellBodySize body.
//
// Free functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "mix/cell.hpp"

namespace nyx::mix {

inline constexpr std::size_t kRelayPlainSize = 891;
// Room for six more hops' headers behind the plaintext (paths have at most 7).
inline constexpr std::size_t kReservedHeadersSize = 96;
static_assert(kCellBodySize == kRelayPlainSize + kReservedHeadersSize + kHopHeaderSize);
inline constexpr std::size_t kRelayHeaderSize = 3;
inline constexpr std::size_t kMaxRelayData = kRelayPlainSize - kRelayHeaderSize;  // 888

enum class RelayType : std::uint8_t {
  kData = 1,     // a datagram for the stream layer
  kDrop = 2,     // cover traffic: dropped by the end that opens it
  kCreated = 3,  // the last hop's answer to CREATE
  kRefused = 4,  // a hop's answer to CREATE under a closed onion key; only inside a CREATED
  kEnd = 5,      // why a circuit closed; only inside a DESTROY
};

// The data of a REFUSED: one byte, the reason (proposal 0002, section 8.5).
enum class RefusedReason : std::uint8_t {
  kKeyClosed = 1,  // the onion key that opened the CREATE takes no fresh one
};

struct RelayMessage {
  RelayType type = RelayType::kData;
  Bytes data;
};

// The reason an END carries (one byte, a reason that may be sent), or
// kUnknown for anything else.
DestroyReason end_reason(const RelayMessage& message) noexcept;

// Writes type | length | data | zeros into `plain` (kRelayPlainSize bytes).
// Precondition: data.size() <= kMaxRelayData.
void encode_relay_plain(RelayType type, Bytes data, std::span<std::uint8_t, kRelayPlainSize> plain);
// kProtocol for an unknown type or a length beyond the plaintext.
Result<RelayMessage> decode_relay_plain(std::span<const std::uint8_t, kRelayPlainSize> plain);

}  // namespace nyx::mix
