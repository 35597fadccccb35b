#pragma once
// The stream layer's wire format: a datagram is a packet number followed by
// frames, modelled on QUIC (RFC 9000). docs/protocol.md, "Streams (stream)",
// is the exact specification; this file implements it.
//
// FrameDecoder is total: any byte string yields frames or an Error
// (kParse for malformed input), never a crash or a read past its end.
// Decoded frames are views into the datagram (STREAM data, CLOSE reason,
// ACK ranges), valid as long as the datagram's bytes are.
//
// Everything here is a pure function of its arguments; thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx::stream {

enum class FrameType : std::uint8_t {
  kPadding = 0x00,
  kPing = 0x01,
  kAck = 0x02,
  kResetStream = 0x04,
  kStopSending = 0x05,
  kStream = 0x08,  // 0x08..0x0f: bit 0x04 OFF, 0x02 LEN, 0x01 FIN
  kMaxData = 0x10,
  kMaxStreamData = 0x11,
  kMaxStreams = 0x12,
  kClose = 0x1c,
};

// An inclusive range of packet numbers, [smallest, largest].
struct PacketRange {
  std::uint64_t smallest = 0;
  std::uint64_t largest = 0;
};

// An ACK frame as decoded: the ranges stay encoded (validated) in the
// datagram and are walked with for_each_range, so decoding allocates nothing.
struct AckFrame {
  std::uint64_t largest = 0;
  std::uint64_t delay_us = 0;
  std::uint64_t range_count = 0;  // additional ranges after the first
  std::uint64_t first_range = 0;
  Bytes extra_ranges;  // range_count (gap, length) varint pairs

  // Calls f(PacketRange) for every acknowledged range, highest first.
  template <class F>
  void for_each_range(F&& f) const;
};

// One decoded frame. Fields a type does not use stay zero/empty:
//   STREAM:          stream_id, offset, fin, data
//   ACK:             ack
//   RESET_STREAM:    stream_id, value (error code), final_size
//   STOP_SENDING:    stream_id, value (error code)
//   MAX_DATA:        value;  MAX_STREAM_DATA: stream_id, value;  MAX_STREAMS: value
//   CLOSE:           value (error code), data (reason, UTF-8)
//   PADDING, PING:   nothing (a run of PADDING bytes decodes as one frame)
struct Frame {
  FrameType type = FrameType::kPadding;
  bool fin = false;
  std::uint64_t stream_id = 0;
  std::uint64_t offset = 0;
  std::uint64_t value = 0;
  std::uint64_t final_size = 0;
  Bytes data;
  AckFrame ack;
};

// Splits a datagram into its packet number and the frames after it.
struct PacketHeader {
  std::uint64_t packet_number = 0;
  Bytes frames;
};
Result<PacketHeader> decode_packet_header(Bytes datagram);

// Walks the frames of one packet.
class FrameDecoder {
 public:
  explicit FrameDecoder(Bytes frames) noexcept
      : p_(frames.data()), end_(frames.data() + frames.size()) {}

  // true and a frame, false at the end, or a kParse error (after which the
  // decoder stays at the end).
  Result<bool> next(Frame& out);

 private:
  // Moves to the end (nothing more is decoded) and returns the kParse error.
  std::unexpected<Error> fail(const char* what);
  // Reads varints into each of `values` in turn; false when one is truncated.
  bool read_varint(std::uint64_t& value) noexcept;
  template <class... V>
  bool read_varints(V&... values) noexcept {
    return (read_varint(values) && ...);
  }
  // A frame that is its type and then the varints `fields`.
  template <class... V>
  Result<bool> decode_fields(Frame& out, FrameType type, const char* truncated, V&... fields) {
    out.type = type;
    if (!read_varints(fields...)) {
      return fail(truncated);
    }
    return true;
  }
  Result<bool> decode_stream(std::uint8_t type, Frame& out);
  Result<bool> decode_ack(Frame& out);
  Result<bool> decode_close(Frame& out);

  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

// Encoders: each writes one frame at w and returns false (writing nothing)
// when it does not fit. Values must be <= 2^62 - 1.
std::size_t packet_header_size(std::uint64_t packet_number) noexcept;
bool encode_packet_header(ByteWriter& w, std::uint64_t packet_number);
// The bytes a STREAM frame with an explicit length takes besides its data.
std::size_t stream_frame_overhead(std::uint64_t stream_id, std::uint64_t offset,
                                  std::size_t length) noexcept;
// The header of a STREAM frame with an explicit length of len bytes; the
// caller writes the len data bytes right after it.
bool encode_stream_header(ByteWriter& w, std::uint64_t stream_id, std::uint64_t offset,
                          std::size_t len, bool fin);
// A STREAM frame; with explicit_length false the data runs to the packet's
// end (the sender then puts nothing after it).
bool encode_stream(ByteWriter& w, std::uint64_t stream_id, std::uint64_t offset, Bytes data,
                   bool fin, bool explicit_length = true);
// ranges: highest first, disjoint, not adjacent. Writes as many ranges as fit
// (at least the first) and returns how many it wrote, 0 if none fit.
std::size_t encode_ack(ByteWriter& w, std::uint64_t delay_us, std::span<const PacketRange> ranges);
bool encode_reset_stream(ByteWriter& w, std::uint64_t stream_id, std::uint64_t code,
                         std::uint64_t final_size);
bool encode_stop_sending(ByteWriter& w, std::uint64_t stream_id, std::uint64_t code);
bool encode_max_data(ByteWriter& w, std::uint64_t max);
bool encode_max_stream_data(ByteWriter& w, std::uint64_t stream_id, std::uint64_t max);
bool encode_max_streams(ByteWriter& w, std::uint64_t max);
bool encode_ping(ByteWriter& w);
bool encode_padding(ByteWriter& w, std::size_t n);
bool encode_close(ByteWriter& w, std::uint64_t code, std::string_view reason);

// Generic encoder for any decoded frame (tests, fuzzing); PADDING writes one
// byte, ACK re-encodes the decoded ranges.
bool encode_frame(ByteWriter& w, const Frame& f);

namespace detail {
const std::uint8_t* get_varint_checked(const std::uint8_t* p, const std::uint8_t* end,
                                       std::uint64_t& out) noexcept;
}

template <class F>
void AckFrame::for_each_range(F&& f) const {
  std::uint64_t largest_in_range = largest;
  std::uint64_t smallest = largest - first_range;
  f(PacketRange{smallest, largest_in_range});
  const std::uint8_t* p = extra_ranges.data();
  const std::uint8_t* end = p + extra_ranges.size();
  for (std::uint64_t i = 0; i < range_count; ++i) {
    std::uint64_t gap = 0;
    std::uint64_t len = 0;
    p = detail::get_varint_checked(p, end, gap);
    p = detail::get_varint_checked(p, end, len);
    // The decoder validated these: no underflow is possible here.
    largest_in_range = smallest - gap - 2;
    smallest = largest_in_range - len;
    f(PacketRange{smallest, largest_in_range});
  }
}

}  // namespace nyx::stream
