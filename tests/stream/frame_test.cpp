#include "stream/frame.hpp"

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stream/detail/varint.hpp"

namespace nyx::stream {
namespace {

std::vector<Frame> decode_all(Bytes frames, Error* error = nullptr) {
  FrameDecoder d(frames);
  std::vector<Frame> out;
  Frame f;
  for (;;) {
    auto r = d.next(f);
    if (!r) {
      if (error != nullptr) {
        *error = r.error();
      }
      return out;
    }
    if (!*r) {
      return out;
    }
    out.push_back(f);
  }
}

TEST(Varint, RoundTripsAtEveryLengthBoundary) {
  for (std::uint64_t v : std::initializer_list<std::uint64_t>{0, 63, 64, 16383, 16384, 1073741823,
                                                              1073741824, detail::kVarintMax}) {
    std::array<std::uint8_t, 8> buf{};
    std::uint8_t* end = detail::put_varint(buf.data(), v);
    EXPECT_EQ(static_cast<std::size_t>(end - buf.data()), detail::varint_size(v));
    std::uint64_t back = 0;
    EXPECT_EQ(detail::get_varint(buf.data(), end, back), end);
    EXPECT_EQ(back, v);
    // One byte short never decodes.
    EXPECT_EQ(detail::get_varint(buf.data(), end - 1, back), nullptr);
  }
}

TEST(Varint, MatchesRfc9000Examples) {
  const std::uint8_t eight[] = {0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c};
  const std::uint8_t four[] = {0x9d, 0x7f, 0x3e, 0x7d};
  const std::uint8_t two[] = {0x7b, 0xbd};
  std::uint64_t v = 0;
  detail::get_varint(eight, eight + 8, v);
  EXPECT_EQ(v, 151288809941952652ull);
  detail::get_varint(four, four + 4, v);
  EXPECT_EQ(v, 494878333ull);
  detail::get_varint(two, two + 2, v);
  EXPECT_EQ(v, 15293ull);
}

TEST(Frame, EveryTypeRoundTrips) {
  std::array<std::uint8_t, 512> buf{};
  ByteWriter w(MutableBytes{buf.data(), buf.size()});
  const std::string data = "hello, stream";
  ASSERT_TRUE(encode_stream(w, 4, 0, as_bytes(data), false));
  ASSERT_TRUE(encode_stream(w, 5, 70000, as_bytes(data), true));
  const std::array<PacketRange, 3> ranges = {PacketRange{90, 100}, PacketRange{50, 80},
                                             PacketRange{0, 10}};
  ASSERT_EQ(encode_ack(w, 1234, ranges), 3u);
  ASSERT_TRUE(encode_reset_stream(w, 8, 77, 123456));
  ASSERT_TRUE(encode_stop_sending(w, 9, 78));
  ASSERT_TRUE(encode_max_data(w, 1u << 30));
  ASSERT_TRUE(encode_max_stream_data(w, 12, 999));
  ASSERT_TRUE(encode_max_streams(w, 100));
  ASSERT_TRUE(encode_ping(w));
  ASSERT_TRUE(encode_padding(w, 3));
  ASSERT_TRUE(encode_close(w, 0xa, "bye"));

  Error err;
  const auto frames = decode_all(w.written(), &err);
  ASSERT_EQ(frames.size(), 11u) << err.to_string();
  EXPECT_EQ(frames[0].type, FrameType::kStream);
  EXPECT_EQ(frames[0].stream_id, 4u);
  EXPECT_EQ(frames[0].offset, 0u);
  EXPECT_FALSE(frames[0].fin);
  EXPECT_EQ(std::string(frames[0].data.begin(), frames[0].data.end()), data);
  EXPECT_EQ(frames[1].offset, 70000u);
  EXPECT_TRUE(frames[1].fin);
  EXPECT_EQ(frames[2].type, FrameType::kAck);
  EXPECT_EQ(frames[2].ack.largest, 100u);
  EXPECT_EQ(frames[2].ack.delay_us, 1234u);
  std::vector<PacketRange> back;
  frames[2].ack.for_each_range([&](PacketRange r) { back.push_back(r); });
  ASSERT_EQ(back.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back[i].smallest, ranges[i].smallest);
    EXPECT_EQ(back[i].largest, ranges[i].largest);
  }
  EXPECT_EQ(frames[3].type, FrameType::kResetStream);
  EXPECT_EQ(frames[3].stream_id, 8u);
  EXPECT_EQ(frames[3].value, 77u);
  EXPECT_EQ(frames[3].final_size, 123456u);
  EXPECT_EQ(frames[4].type, FrameType::kStopSending);
  EXPECT_EQ(frames[4].value, 78u);
  EXPECT_EQ(frames[5].type, FrameType::kMaxData);
  EXPECT_EQ(frames[5].value, 1u << 30);
  EXPECT_EQ(frames[6].type, FrameType::kMaxStreamData);
  EXPECT_EQ(frames[6].stream_id, 12u);
  EXPECT_EQ(frames[6].value, 999u);
  EXPECT_EQ(frames[7].type, FrameType::kMaxStreams);
  EXPECT_EQ(frames[8].type, FrameType::kPing);
  EXPECT_EQ(frames[9].type, FrameType::kPadding);  // three zero bytes, one frame
  EXPECT_EQ(frames[10].type, FrameType::kClose);
  EXPECT_EQ(frames[10].value, 0xau);
  EXPECT_EQ(std::string(frames[10].data.begin(), frames[10].data.end()), "bye");

  // Re-encoding the decoded frames gives the same bytes back (padding aside).
  std::array<std::uint8_t, 512> again{};
  ByteWriter w2(MutableBytes{again.data(), again.size()});
  for (const Frame& f : frames) {
    if (f.type == FrameType::kPadding) {
      ASSERT_TRUE(encode_padding(w2, 3));
    } else {
      ASSERT_TRUE(encode_frame(w2, f));
    }
  }
  ASSERT_EQ(w2.size(), w.size());
  EXPECT_TRUE(
      std::equal(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(w.size()), again.begin()));
}

TEST(Frame, MatchesTheExampleInProtocolMd) {
  std::array<std::uint8_t, 16> buf{};
  ByteWriter w(MutableBytes{buf.data(), buf.size()});
  ASSERT_TRUE(encode_packet_header(w, 0));
  ASSERT_TRUE(encode_stream(w, 0, 0, as_bytes("hi"), true));
  const std::vector<std::uint8_t> expected = {0x00, 0x0b, 0x00, 0x02, 0x68, 0x69};
  EXPECT_EQ(std::vector<std::uint8_t>(w.written().begin(), w.written().end()), expected);
}

TEST(Frame, StreamWithoutLengthRunsToTheEnd) {
  std::array<std::uint8_t, 64> buf{};
  ByteWriter w(MutableBytes{buf.data(), buf.size()});
  ASSERT_TRUE(encode_stream(w, 1, 5, as_bytes("tail"), true, false));
  const auto frames = decode_all(w.written());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data.size(), 4u);
  EXPECT_TRUE(frames[0].fin);
}

TEST(Frame, EncodersRefuseWhatDoesNotFit) {
  std::array<std::uint8_t, 6> buf{};
  ByteWriter w(MutableBytes{buf.data(), buf.size()});
  EXPECT_FALSE(encode_stream(w, 1, 0, as_bytes("too long"), false));
  EXPECT_EQ(w.size(), 0u);
  EXPECT_FALSE(encode_close(w, 1, "reason"));
  EXPECT_EQ(w.size(), 0u);
  // An ACK with many ranges keeps as many as fit.
  std::vector<PacketRange> many;
  for (std::uint64_t i = 0; i < 100; ++i) {
    many.push_back(PacketRange{1000 - 4 * i - 1, 1000 - 4 * i});
  }
  std::array<std::uint8_t, 40> small{};
  ByteWriter w2(MutableBytes{small.data(), small.size()});
  const std::size_t n = encode_ack(w2, 0, many);
  EXPECT_GT(n, 1u);
  EXPECT_LT(n, 100u);
  const auto frames = decode_all(w2.written());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].ack.range_count + 1, n);
}

TEST(Frame, EveryTruncationIsAnErrorNotACrash) {
  std::array<std::uint8_t, 256> buf{};
  ByteWriter w(MutableBytes{buf.data(), buf.size()});
  ASSERT_TRUE(encode_stream(w, 4, 300, as_bytes("payload"), false));
  const std::array<PacketRange, 2> ranges = {PacketRange{90, 100}, PacketRange{50, 80}};
  ASSERT_EQ(encode_ack(w, 5, ranges), 2u);
  ASSERT_TRUE(encode_reset_stream(w, 8, 77, 123456));
  ASSERT_TRUE(encode_close(w, 1, "reason"));
  const Bytes whole = w.written();
  const std::size_t full = decode_all(whole).size();
  for (std::size_t cut = 1; cut < whole.size(); ++cut) {
    // Exact copies, so ASan sees any read past the cut.
    std::vector<std::uint8_t> part(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
    Error err;
    const auto frames = decode_all(Bytes{part.data(), part.size()}, &err);
    EXPECT_LE(frames.size(), full);
  }
}

TEST(Frame, MalformedInputIsRejected) {
  struct Case {
    std::vector<std::uint8_t> bytes;
    const char* why;
  };
  const std::vector<Case> cases = {
      {{0x1f}, "unknown frame type"},
      {{0x40, 0x02}, "two-byte frame type"},
      {{0x02, 0x05, 0x00, 0x00, 0x06}, "ACK first range below 0"},
      {{0x02, 0x05, 0x00, 0x01, 0x01, 0x03, 0x00}, "ACK gap below 0"},
      {{0x02, 0x05, 0x00, 0x01, 0x01}, "ACK range truncated"},
      {{0x0a, 0x04, 0x05, 'a', 'b'}, "STREAM length past the end"},
      {{0x0e, 0x04, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'a'},
       "STREAM end beyond 2^62"},
      {{0x1c, 0x00, 0x05, 'a'}, "CLOSE reason past the end"},
      {{0x04, 0x01}, "RESET_STREAM truncated"},
      {{0x11, 0x01}, "MAX_STREAM_DATA truncated"},
  };
  for (const Case& c : cases) {
    Error err;
    decode_all(Bytes{c.bytes.data(), c.bytes.size()}, &err);
    EXPECT_EQ(err.category, ErrorCategory::kParse) << c.why;
    EXPECT_FALSE(err.message.empty()) << c.why;
  }
  auto empty_header = decode_packet_header(Bytes{});
  EXPECT_FALSE(empty_header.has_value());
}

}  // namespace
}  // namespace nyx::stream
