// libFuzzer target for the stream layer's decoder: any bytes must decode to
// frames or an error, never crash or read past the input. Every decoded
// frame is re-encoded and decoded again, and must come back the same.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "stream/frame.hpp"

using nyx::Bytes;
using nyx::ByteWriter;
using nyx::MutableBytes;
using namespace nyx::stream;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto header = decode_packet_header(Bytes{data, size});
  if (!header) {
    return 0;
  }
  FrameDecoder decoder(header->frames);
  Frame f;
  for (;;) {
    auto more = decoder.next(f);
    if (!more || !*more) {
      return 0;
    }
    std::uint64_t acked = 0;
    if (f.type == FrameType::kAck) {
      f.ack.for_each_range([&](PacketRange r) {
        if (r.smallest > r.largest) {
          std::abort();
        }
        acked += r.largest - r.smallest;
      });
    }
    std::array<std::uint8_t, 2048> buf{};
    ByteWriter w(MutableBytes{buf.data(), buf.size()});
    if (f.type == FrameType::kPadding || !encode_frame(w, f)) {
      continue;  // padding runs and oversized ACKs do not re-encode one to one
    }
    FrameDecoder again(w.written());
    Frame g;
    auto back = again.next(g);
    if (!back || !*back || g.type != f.type || g.stream_id != f.stream_id || g.offset != f.offset ||
        g.value != f.value || g.final_size != f.final_size || g.fin != f.fin ||
        g.data.size() != f.data.size()) {
      std::abort();
    }
  }
}
