#include "transport/udp_wire.hpp"

#include <algorithm>

namespace nyx::transport {
namespace {

constexpr std::size_t kInitOffset = 8;       // type(1) zero(3) sender(4)
constexpr std::size_t kResponseOffset = 12;  // type(1) zero(3) sender(4) receiver(4)
constexpr std::size_t kFinalOffset = 8;      // type(1) zero(3) receiver(4)

void write_prefix(MutableBytes out, UdpMessageType type) {
  std::fill(out.begin(), out.begin() + kDatagramSize, std::uint8_t{0});
  out[0] = static_cast<std::uint8_t>(type);
}

}  // namespace

Result<UdpMessage> parse_udp_message(Bytes datagram) {
  if (datagram.size() != kDatagramSize) {
    return make_error(ErrorCategory::kParse, "link datagram has the wrong size");
  }
  if (datagram[1] != 0 || datagram[2] != 0 || datagram[3] != 0) {
    return make_error(ErrorCategory::kParse, "link datagram reserved bytes not zero");
  }
  UdpMessage m;
  const std::uint8_t* p = datagram.data();
  switch (datagram[0]) {
    case static_cast<std::uint8_t>(UdpMessageType::kHandshakeInit):
      m.type = UdpMessageType::kHandshakeInit;
      m.sender_index = load_be32(p + 4);
      m.payload = datagram.subspan(kInitOffset, NoiseHandshake::kMessage1Size);
      return m;
    case static_cast<std::uint8_t>(UdpMessageType::kHandshakeResponse):
      m.type = UdpMessageType::kHandshakeResponse;
      m.sender_index = load_be32(p + 4);
      m.receiver_index = load_be32(p + 8);
      m.payload = datagram.subspan(kResponseOffset, NoiseHandshake::kMessage2Size);
      return m;
    case static_cast<std::uint8_t>(UdpMessageType::kHandshakeFinal):
      m.type = UdpMessageType::kHandshakeFinal;
      m.receiver_index = load_be32(p + 4);
      m.payload = datagram.subspan(kFinalOffset, NoiseHandshake::kMessage3Size);
      return m;
    case static_cast<std::uint8_t>(UdpMessageType::kData):
    case static_cast<std::uint8_t>(UdpMessageType::kKeepalive):
      m.type = static_cast<UdpMessageType>(datagram[0]);
      m.receiver_index = load_be32(p + 4);
      m.counter = load_be64(p + 8);
      m.header = datagram.first(kDataHeaderSize);
      m.payload = datagram.subspan(kDataHeaderSize);
      return m;
    default:
      return make_error(ErrorCategory::kParse, "link datagram has an unknown type");
  }
}

void write_handshake_init(MutableBytes out, std::uint32_t sender_index, Bytes message1) {
  write_prefix(out, UdpMessageType::kHandshakeInit);
  store_be32(out.data() + 4, sender_index);
  std::copy(message1.begin(), message1.end(), out.begin() + kInitOffset);
}

void write_handshake_response(MutableBytes out, std::uint32_t sender_index,
                              std::uint32_t receiver_index, Bytes message2) {
  write_prefix(out, UdpMessageType::kHandshakeResponse);
  store_be32(out.data() + 4, sender_index);
  store_be32(out.data() + 8, receiver_index);
  std::copy(message2.begin(), message2.end(), out.begin() + kResponseOffset);
}

void write_handshake_final(MutableBytes out, std::uint32_t receiver_index, Bytes message3) {
  write_prefix(out, UdpMessageType::kHandshakeFinal);
  store_be32(out.data() + 4, receiver_index);
  std::copy(message3.begin(), message3.end(), out.begin() + kFinalOffset);
}

void write_data_header(MutableBytes out, UdpMessageType type, std::uint32_t receiver_index,
                       std::uint64_t counter) {
  out[0] = static_cast<std::uint8_t>(type);
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  store_be32(out.data() + 4, receiver_index);
  store_be64(out.data() + 8, counter);
}

}  // namespace nyx::transport
