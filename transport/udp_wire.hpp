#pragma once
// The UDP link framing (docs/protocol.md, "Links (transport)"): every
// datagram is exactly kDatagramSize bytes, whatever it carries, so sizes on
// the wire say nothing. Parsing is a pure function of the bytes (fuzzed by
// tests/fuzz/transport_datagram_fuzz.cpp); building writes into a caller's
// kDatagramSize buffer.

#include <cstddef>
#include <cstdint>

#include "core/bytes.hpp"
#include "core/cell_size.hpp"
#include "core/error.hpp"
#include "transport/noise_handshake.hpp"

namespace nyx::transport {

enum class UdpMessageType : std::uint8_t {
  kHandshakeInit = 1,      // -> e, es
  kHandshakeResponse = 2,  // <- e, ee
  kHandshakeFinal = 3,     // -> s, se
  kData = 4,               // one sealed cell
  kKeepalive = 5,          // a sealed cell of zeros that is not delivered
};

inline constexpr std::size_t kDataHeaderSize = 16;  // type, 3 zero bytes, receiver, counter
inline constexpr std::size_t kSealedCellSize = kCellSize + NoiseCipherState::kTagSize;
inline constexpr std::size_t kDatagramSize = kDataHeaderSize + kSealedCellSize;  // 1056
static_assert(kDatagramSize <= 1200, "a link datagram must cross any path unfragmented");

struct UdpMessage {
  UdpMessageType type{};
  std::uint32_t sender_index = 0;    // init, response
  std::uint32_t receiver_index = 0;  // response, final, data, keepalive
  std::uint64_t counter = 0;         // data, keepalive
  Bytes header;                      // data, keepalive: the 16 bytes authenticated as AD
  Bytes payload;                     // the Noise message or the sealed cell
};

// Fails with kParse on a wrong size, an unknown type or non-zero reserved bytes.
Result<UdpMessage> parse_udp_message(Bytes datagram);

// Each writes a whole kDatagramSize datagram (zero padding included) into out.
void write_handshake_init(MutableBytes out, std::uint32_t sender_index, Bytes message1);
void write_handshake_response(MutableBytes out, std::uint32_t sender_index,
                              std::uint32_t receiver_index, Bytes message2);
void write_handshake_final(MutableBytes out, std::uint32_t receiver_index, Bytes message3);
// Writes the 16-byte header of a data or keepalive datagram; the caller seals
// the cell into out[16, 1056) with the header as associated data.
void write_data_header(MutableBytes out, UdpMessageType type, std::uint32_t receiver_index,
                       std::uint64_t counter);

}  // namespace nyx::transport
