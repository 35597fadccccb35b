#include "mix/relay_cell.hpp"

#include <algorithm>

#include "core/crypto/secret.hpp"

namespace nyx::mix {

void encode_relay_plain(RelayType type, Bytes data,
                        std::span<std::uint8_t, kRelayPlainSize> plain) {
  if (data.size() > kMaxRelayData) {
    crypto::detail::precondition_failed("encode_relay_plain: data too long");
  }
  plain[0] = static_cast<std::uint8_t>(type);
  store_be16(plain.data() + 1, static_cast<std::uint16_t>(data.size()));
  auto end = std::copy(data.begin(), data.end(), plain.begin() + kRelayHeaderSize);
  std::fill(end, plain.end(), std::uint8_t{0});
}

Result<RelayMessage> decode_relay_plain(std::span<const std::uint8_t, kRelayPlainSize> plain) {
  std::uint8_t type = plain[0];
  if (type < static_cast<std::uint8_t>(RelayType::kData) ||
      type > static_cast<std::uint8_t>(RelayType::kEnd)) {
    return make_error(ErrorCategory::kProtocol, "relay: unknown type", type);
  }
  std::uint16_t length = load_be16(plain.data() + 1);
  if (length > kMaxRelayData) {
    return make_error(ErrorCategory::kProtocol, "relay: length beyond the cell", length);
  }
  return RelayMessage{static_cast<RelayType>(type), Bytes(plain).subspan(kRelayHeaderSize, length)};
}

DestroyReason end_reason(const RelayMessage& message) noexcept {
  if (message.type != RelayType::kEnd || message.data.size() != 1) {
    return DestroyReason::kUnknown;
  }
  switch (const auto reason = static_cast<DestroyReason>(message.data[0])) {
    case DestroyReason::kRequested:
    case DestroyReason::kProtocol:
    case DestroyReason::kTampered:
    case DestroyReason::kTimeout:
    case DestroyReason::kResources:
    case DestroyReason::kLinkDown:
    case DestroyReason::kCellLimit:
      return reason;
    case DestroyReason::kCreateFailed:  // local only: never sent
    case DestroyReason::kUnknown:
      break;
  }
  return DestroyReason::kUnknown;
}

}  // namespace nyx::mix
