#include "stream/detail/stream_state.hpp"

#include <array>

#include <gtest/gtest.h>

#include "core/bytes.hpp"

namespace nyx::stream::detail {
namespace {

using namespace std::chrono_literals;

StreamState make_stream() { return StreamState(0, 1000, 4000, 0s); }

SentRecord data_record(std::uint64_t offset, std::uint32_t length, bool fin) {
  return SentRecord{SentRecord::kStreamData, fin, length, 0, offset};
}

// Sends everything the stream has in one roomy packet.
SentPacket send_all(StreamState& s) {
  std::array<std::uint8_t, 512> buf{};
  ByteWriter w(MutableBytes{buf.data(), buf.size()});
  SentPacket p;
  std::uint64_t retransmitted = 0;
  EXPECT_FALSE(s.write_frames(w, p, retransmitted));
  return p;
}

TEST(StreamState, SendSideWalksReadySendDataSentDataRecvd) {
  StreamState s = make_stream();
  EXPECT_EQ(s.send, SendState::kReady);
  const std::array<std::uint8_t, 10> data{};
  s.take(Bytes{data.data(), data.size()});
  EXPECT_EQ(s.send, SendState::kSend);
  EXPECT_EQ(s.credit.available(), 990u);
  s.finish();
  EXPECT_EQ(s.send, SendState::kDataSent);
  EXPECT_FALSE(s.may_write());
  const SentPacket p = send_all(s);
  ASSERT_EQ(p.count, 1);
  EXPECT_TRUE(p.records[0].fin);
  EXPECT_FALSE(s.has_data_to_send());
  EXPECT_TRUE(s.on_data_acked(p.records[0]));
  EXPECT_EQ(s.send, SendState::kDataRecvd);
  EXPECT_TRUE(s.send_done());
}

TEST(StreamState, FinAckedBeforeTheDataIsNotDone) {
  StreamState s = make_stream();
  const std::array<std::uint8_t, 10> data{};
  s.take(Bytes{data.data(), data.size()});
  s.finish();
  send_all(s);
  EXPECT_FALSE(s.on_data_acked(data_record(5, 5, true)));
  EXPECT_EQ(s.send, SendState::kDataSent);
  // A loss of the first half resends it, and not the FIN, which arrived.
  EXPECT_TRUE(s.on_data_lost(data_record(0, 5, false)));
  EXPECT_TRUE(s.has_data_to_send());
  const SentPacket p = send_all(s);
  ASSERT_EQ(p.count, 1);
  EXPECT_FALSE(p.records[0].fin);
  EXPECT_TRUE(s.on_data_acked(p.records[0]));
  EXPECT_EQ(s.send, SendState::kDataRecvd);
}

TEST(StreamState, LostFinGoesOutAgain) {
  StreamState s = make_stream();
  s.finish();
  send_all(s);
  EXPECT_FALSE(s.has_data_to_send());
  s.on_data_lost(data_record(0, 0, true));
  EXPECT_TRUE(s.fin_pending);
  const SentPacket p = send_all(s);
  ASSERT_EQ(p.count, 1);
  EXPECT_TRUE(p.records[0].fin);
}

TEST(StreamState, ResetGivesBackUnsentCredit) {
  StreamState s = make_stream();
  const std::array<std::uint8_t, 10> data{};
  s.take(Bytes{data.data(), data.size()});
  EXPECT_EQ(s.reset(7), 10u);
  EXPECT_EQ(s.send, SendState::kResetSent);
  EXPECT_TRUE(s.reset_pending);
  EXPECT_EQ(s.credit.used(), 0u);
  EXPECT_FALSE(s.has_data_to_send());
  EXPECT_FALSE(s.on_data_lost(data_record(0, 10, false)));
}

TEST(StreamState, ReceiveSideChecksFinalSizeAndWindow) {
  StreamState s = make_stream();
  EXPECT_EQ(*s.on_data(0, 100, false), 100u);
  EXPECT_EQ(s.recv, RecvState::kRecv);
  EXPECT_FALSE(s.on_data(0, 50, true));  // FIN below what arrived
  EXPECT_EQ(*s.on_data(100, 100, true), 100u);
  EXPECT_EQ(s.recv, RecvState::kSizeKnown);
  EXPECT_EQ(s.final_size, 200u);
  EXPECT_FALSE(s.on_data(150, 100, false));  // beyond the final size
  EXPECT_EQ(*s.on_data(0, 10, false), 0u);   // a duplicate raises nothing
  StreamState t = make_stream();
  EXPECT_FALSE(t.on_data(900, 101, false));  // past the 1000-byte window
}

TEST(StreamState, StoresAndReadsInOrder) {
  StreamState s = make_stream();
  const std::array<std::uint8_t, 4> a{1, 2, 3, 4};
  const std::array<std::uint8_t, 4> b{5, 6, 7, 8};
  ASSERT_TRUE(s.on_data(4, 4, true));
  EXPECT_FALSE(s.store(4, Bytes{b.data(), b.size()}));  // a hole at the start
  ASSERT_TRUE(s.on_data(0, 4, false));
  EXPECT_TRUE(s.store(0, Bytes{a.data(), a.size()}));
  std::array<std::uint8_t, 8> out{};
  EXPECT_EQ(s.read(MutableBytes{out.data(), out.size()}), 8u);
  EXPECT_EQ(out, (std::array<std::uint8_t, 8>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_TRUE(s.all_read());
}

TEST(StreamState, ResetFixesTheFinalSize) {
  StreamState s = make_stream();
  ASSERT_TRUE(s.on_data(0, 100, false));
  EXPECT_FALSE(s.on_reset(50));  // below what arrived
  EXPECT_EQ(*s.on_reset(300), 200u);
  EXPECT_EQ(s.recv, RecvState::kResetRead);
  EXPECT_TRUE(s.recv_done());
  EXPECT_EQ(s.discard_to(300), 300u);
}

}  // namespace
}  // namespace nyx::stream::detail
