#include "stream/frame.hpp"

#include "stream/detail/varint.hpp"

namespace nyx::stream {

using detail::get_varint;
using detail::kVarintMax;
using detail::put_varint;
using detail::varint_size;

namespace detail {
const std::uint8_t* get_varint_checked(const std::uint8_t* p, const std::uint8_t* end,
                                       std::uint64_t& out) noexcept {
  const std::uint8_t* next = get_varint(p, end, out);
  if (next == nullptr) {
    out = 0;
    return end;
  }
  return next;
}
}  // namespace detail

namespace {

constexpr std::uint8_t code(FrameType type) noexcept { return static_cast<std::uint8_t>(type); }

// A STREAM frame's type byte is kStream with these flag bits.
constexpr std::uint8_t kStreamOff = 0x04;
constexpr std::uint8_t kStreamLen = 0x02;
constexpr std::uint8_t kStreamFin = 0x01;
constexpr std::uint8_t kStreamFlags = kStreamOff | kStreamLen | kStreamFin;

bool is_stream_type(std::uint8_t type) noexcept {
  return (type & ~kStreamFlags) == code(FrameType::kStream);
}

std::uint8_t stream_type(bool off, bool len, bool fin) noexcept {
  return static_cast<std::uint8_t>(code(FrameType::kStream) | (off ? kStreamOff : 0) |
                                   (len ? kStreamLen : 0) | (fin ? kStreamFin : 0));
}

// Writes the type and the varints back to back if all of them fit; nothing
// otherwise.
template <class... V>
bool put_all(ByteWriter& w, FrameType type, V... values) {
  const std::size_t need = 1 + (varint_size(values) + ... + 0);
  if (w.remaining() < need) {
    return false;
  }
  std::uint8_t buf[1 + 8 * sizeof...(V)];
  std::uint8_t* p = buf;
  *p++ = code(type);
  ((p = put_varint(p, values)), ...);
  return w.write_bytes(Bytes{buf, static_cast<std::size_t>(p - buf)});
}

}  // namespace

Result<PacketHeader> decode_packet_header(Bytes datagram) {
  std::uint64_t pn = 0;
  const std::uint8_t* end = datagram.data() + datagram.size();
  const std::uint8_t* p = get_varint(datagram.data(), end, pn);
  if (p == nullptr) {
    return make_error(ErrorCategory::kParse, "packet number truncated");
  }
  return PacketHeader{pn, Bytes{p, static_cast<std::size_t>(end - p)}};
}

std::unexpected<Error> FrameDecoder::fail(const char* what) {
  p_ = end_;
  return make_error(ErrorCategory::kParse, what);
}

bool FrameDecoder::read_varint(std::uint64_t& value) noexcept {
  const std::uint8_t* n = get_varint(p_, end_, value);
  if (n == nullptr) {
    return false;
  }
  p_ = n;
  return true;
}

Result<bool> FrameDecoder::next(Frame& out) {
  if (p_ >= end_) {
    return false;
  }
  out = Frame{};
  const std::uint8_t type = *p_++;
  if (is_stream_type(type)) {
    return decode_stream(type, out);
  }
  // A byte that names no type falls to `default`: the enum's underlying type
  // is uint8_t, so every byte is a valid value to switch on.
  switch (static_cast<FrameType>(type)) {
    case FrameType::kPadding:
      out.type = FrameType::kPadding;
      while (p_ < end_ && *p_ == 0) {
        ++p_;
      }
      return true;
    case FrameType::kPing:
      out.type = FrameType::kPing;
      return true;
    case FrameType::kAck:
      return decode_ack(out);
    case FrameType::kResetStream:
      return decode_fields(out, FrameType::kResetStream, "RESET_STREAM frame truncated",
                           out.stream_id, out.value, out.final_size);
    case FrameType::kStopSending:
      return decode_fields(out, FrameType::kStopSending, "STOP_SENDING frame truncated",
                           out.stream_id, out.value);
    case FrameType::kMaxData:
      return decode_fields(out, FrameType::kMaxData, "MAX_DATA frame truncated", out.value);
    case FrameType::kMaxStreamData:
      return decode_fields(out, FrameType::kMaxStreamData, "MAX_STREAM_DATA frame truncated",
                           out.stream_id, out.value);
    case FrameType::kMaxStreams:
      return decode_fields(out, FrameType::kMaxStreams, "MAX_STREAMS frame truncated", out.value);
    case FrameType::kClose:
      return decode_close(out);
    case FrameType::kStream:  // handled above, with its flag bits
    default:
      return fail("unknown frame type");
  }
}

Result<bool> FrameDecoder::decode_stream(std::uint8_t type, Frame& out) {
  out.type = FrameType::kStream;
  out.fin = (type & kStreamFin) != 0;
  if (!read_varint(out.stream_id) || ((type & kStreamOff) != 0 && !read_varint(out.offset))) {
    return fail("STREAM frame truncated");
  }
  std::uint64_t len = static_cast<std::uint64_t>(end_ - p_);
  if ((type & kStreamLen) != 0) {
    if (!read_varint(len)) {
      return fail("STREAM frame truncated");
    }
    if (len > static_cast<std::uint64_t>(end_ - p_)) {
      return fail("STREAM data runs past the packet");
    }
  }
  if (out.offset + len > kVarintMax) {
    return fail("STREAM frame ends beyond 2^62");
  }
  out.data = Bytes{p_, static_cast<std::size_t>(len)};
  p_ += len;
  return true;
}

Result<bool> FrameDecoder::decode_ack(Frame& out) {
  out.type = FrameType::kAck;
  AckFrame& a = out.ack;
  if (!read_varints(a.largest, a.delay_us, a.range_count, a.first_range)) {
    return fail("ACK frame truncated");
  }
  if (a.first_range > a.largest) {
    return fail("ACK first range below packet 0");
  }
  const std::uint8_t* ranges_start = p_;
  std::uint64_t smallest = a.largest - a.first_range;
  for (std::uint64_t i = 0; i < a.range_count; ++i) {
    std::uint64_t gap = 0;
    std::uint64_t len = 0;
    if (!read_varints(gap, len)) {
      return fail("ACK range truncated");
    }
    if (smallest < gap + 2 || smallest - gap - 2 < len) {
      return fail("ACK range below packet 0");
    }
    smallest = smallest - gap - 2 - len;
  }
  a.extra_ranges = Bytes{ranges_start, static_cast<std::size_t>(p_ - ranges_start)};
  return true;
}

Result<bool> FrameDecoder::decode_close(Frame& out) {
  out.type = FrameType::kClose;
  std::uint64_t len = 0;
  if (!read_varints(out.value, len)) {
    return fail("CLOSE frame truncated");
  }
  if (len > static_cast<std::uint64_t>(end_ - p_)) {
    return fail("CLOSE reason runs past the packet");
  }
  out.data = Bytes{p_, static_cast<std::size_t>(len)};
  p_ += len;
  return true;
}

std::size_t packet_header_size(std::uint64_t packet_number) noexcept {
  return varint_size(packet_number);
}

bool encode_packet_header(ByteWriter& w, std::uint64_t packet_number) {
  std::uint8_t buf[8];
  std::uint8_t* p = put_varint(buf, packet_number);
  return w.write_bytes(Bytes{buf, static_cast<std::size_t>(p - buf)});
}

std::size_t stream_frame_overhead(std::uint64_t stream_id, std::uint64_t offset,
                                  std::size_t length) noexcept {
  return 1 + varint_size(stream_id) + (offset != 0 ? varint_size(offset) : 0) + varint_size(length);
}

bool encode_stream_header(ByteWriter& w, std::uint64_t stream_id, std::uint64_t offset,
                          std::size_t len, bool fin) {
  std::uint8_t hdr[1 + 8 * 3];
  std::uint8_t* p = hdr;
  *p++ = stream_type(offset != 0, true, fin);
  p = put_varint(p, stream_id);
  if (offset != 0) {
    p = put_varint(p, offset);
  }
  p = put_varint(p, len);
  const auto hlen = static_cast<std::size_t>(p - hdr);
  if (w.remaining() < hlen + len) {
    return false;
  }
  return w.write_bytes(Bytes{hdr, hlen});
}

bool encode_stream(ByteWriter& w, std::uint64_t stream_id, std::uint64_t offset, Bytes data,
                   bool fin, bool explicit_length) {
  std::uint8_t hdr[1 + 8 * 3];
  std::uint8_t* p = hdr;
  *p++ = stream_type(offset != 0, explicit_length, fin);
  p = put_varint(p, stream_id);
  if (offset != 0) {
    p = put_varint(p, offset);
  }
  if (explicit_length) {
    p = put_varint(p, data.size());
  }
  const auto hlen = static_cast<std::size_t>(p - hdr);
  if (w.remaining() < hlen + data.size()) {
    return false;
  }
  return w.write_bytes(Bytes{hdr, hlen}) && w.write_bytes(data);
}

std::size_t encode_ack(ByteWriter& w, std::uint64_t delay_us, std::span<const PacketRange> ranges) {
  if (ranges.empty()) {
    return 0;
  }
  const PacketRange& first = ranges[0];
  // Count how many ranges fit before writing anything.
  std::size_t n = 1;
  std::size_t body = varint_size(first.largest - first.smallest);
  std::size_t extra = 0;
  std::uint64_t smallest = first.smallest;
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    const std::uint64_t gap = smallest - ranges[i].largest - 2;
    const std::uint64_t len = ranges[i].largest - ranges[i].smallest;
    const std::size_t add = varint_size(gap) + varint_size(len);
    // Leave room for the range count growing by a byte.
    if (1 + varint_size(first.largest) + varint_size(delay_us) + varint_size(n + 1) + body + extra +
            add >
        w.remaining()) {
      break;
    }
    extra += add;
    smallest = ranges[i].smallest;
    ++n;
  }
  const std::size_t total =
      1 + varint_size(first.largest) + varint_size(delay_us) + varint_size(n - 1) + body + extra;
  if (total > w.remaining()) {
    return 0;
  }
  std::uint8_t buf[64];
  std::uint8_t* p = buf;
  *p++ = code(FrameType::kAck);
  p = put_varint(p, first.largest);
  p = put_varint(p, delay_us);
  p = put_varint(p, n - 1);
  p = put_varint(p, first.largest - first.smallest);
  w.write_bytes(Bytes{buf, static_cast<std::size_t>(p - buf)});
  smallest = first.smallest;
  for (std::size_t i = 1; i < n; ++i) {
    p = buf;
    p = put_varint(p, smallest - ranges[i].largest - 2);
    p = put_varint(p, ranges[i].largest - ranges[i].smallest);
    w.write_bytes(Bytes{buf, static_cast<std::size_t>(p - buf)});
    smallest = ranges[i].smallest;
  }
  return n;
}

bool encode_reset_stream(ByteWriter& w, std::uint64_t stream_id, std::uint64_t code,
                         std::uint64_t final_size) {
  return put_all(w, FrameType::kResetStream, stream_id, code, final_size);
}
bool encode_stop_sending(ByteWriter& w, std::uint64_t stream_id, std::uint64_t code) {
  return put_all(w, FrameType::kStopSending, stream_id, code);
}
bool encode_max_data(ByteWriter& w, std::uint64_t max) {
  return put_all(w, FrameType::kMaxData, max);
}
bool encode_max_stream_data(ByteWriter& w, std::uint64_t stream_id, std::uint64_t max) {
  return put_all(w, FrameType::kMaxStreamData, stream_id, max);
}
bool encode_max_streams(ByteWriter& w, std::uint64_t max) {
  return put_all(w, FrameType::kMaxStreams, max);
}
bool encode_ping(ByteWriter& w) { return w.write_u8(code(FrameType::kPing)); }

bool encode_padding(ByteWriter& w, std::size_t n) {
  // PADDING's type is the zero byte, so n zeros are n PADDING frames.
  static_assert(code(FrameType::kPadding) == 0);
  if (w.remaining() < n) {
    return false;
  }
  static constexpr std::uint8_t kZeros[256] = {};
  while (n > 0) {
    const std::size_t k = n < sizeof kZeros ? n : sizeof kZeros;
    w.write_bytes(Bytes{kZeros, k});
    n -= k;
  }
  return true;
}

bool encode_close(ByteWriter& w, std::uint64_t code, std::string_view reason) {
  const Bytes r = as_bytes(reason);
  if (w.remaining() < 1 + varint_size(code) + varint_size(r.size()) + r.size()) {
    return false;
  }
  return put_all(w, FrameType::kClose, code, std::uint64_t{r.size()}) && w.write_bytes(r);
}

bool encode_frame(ByteWriter& w, const Frame& f) {
  switch (f.type) {
    case FrameType::kPadding:
      return encode_padding(w, 1);
    case FrameType::kPing:
      return encode_ping(w);
    case FrameType::kAck: {
      PacketRange ranges[64];
      std::size_t n = 0;
      bool all = true;
      f.ack.for_each_range([&](PacketRange r) {
        if (n < 64) {
          ranges[n++] = r;
        } else {
          all = false;
        }
      });
      return all && encode_ack(w, f.ack.delay_us, std::span<const PacketRange>(ranges, n)) == n;
    }
    case FrameType::kResetStream:
      return encode_reset_stream(w, f.stream_id, f.value, f.final_size);
    case FrameType::kStopSending:
      return encode_stop_sending(w, f.stream_id, f.value);
    case FrameType::kStream:
      return encode_stream(w, f.stream_id, f.offset, f.data, f.fin);
    case FrameType::kMaxData:
      return encode_max_data(w, f.value);
    case FrameType::kMaxStreamData:
      return encode_max_stream_data(w, f.stream_id, f.value);
    case FrameType::kMaxStreams:
      return encode_max_streams(w, f.value);
    case FrameType::kClose:
      return encode_close(
          w, f.value,
          std::string_view(reinterpret_cast<const char*>(f.data.data()), f.data.size()));
  }
  return false;
}

}  // namespace nyx::stream
