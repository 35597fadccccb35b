#include "transport/udp_wire.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace nyx::transport {
namespace {

TEST(UdpWireTest, HandshakeMessagesRoundTripAtTheFixedSize) {
  std::vector<std::uint8_t> buf(kDatagramSize);
  std::vector<std::uint8_t> msg(NoiseHandshake::kMessage1Size, 0xab);
  write_handshake_init(buf, 0x01020304, msg);
  auto m = parse_udp_message(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, UdpMessageType::kHandshakeInit);
  EXPECT_EQ(m->sender_index, 0x01020304u);
  EXPECT_EQ(std::vector<std::uint8_t>(m->payload.begin(), m->payload.end()), msg);

  write_handshake_response(buf, 7, 9, msg);
  m = parse_udp_message(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, UdpMessageType::kHandshakeResponse);
  EXPECT_EQ(m->sender_index, 7u);
  EXPECT_EQ(m->receiver_index, 9u);

  std::vector<std::uint8_t> msg3(NoiseHandshake::kMessage3Size, 0xcd);
  write_handshake_final(buf, 11, msg3);
  m = parse_udp_message(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, UdpMessageType::kHandshakeFinal);
  EXPECT_EQ(m->receiver_index, 11u);
  EXPECT_EQ(m->payload.size(), NoiseHandshake::kMessage3Size);
}

TEST(UdpWireTest, DataHeaderCarriesIndexAndCounter) {
  std::vector<std::uint8_t> buf(kDatagramSize);
  write_data_header(buf, UdpMessageType::kData, 0xdeadbeef, 0x0102030405060708);
  auto m = parse_udp_message(buf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, UdpMessageType::kData);
  EXPECT_EQ(m->receiver_index, 0xdeadbeefu);
  EXPECT_EQ(m->counter, 0x0102030405060708u);
  EXPECT_EQ(m->header.size(), kDataHeaderSize);
  EXPECT_EQ(m->payload.size(), kSealedCellSize);
}

TEST(UdpWireTest, RejectsWrongSizeTypeAndReservedBytes) {
  std::vector<std::uint8_t> buf(kDatagramSize);
  write_data_header(buf, UdpMessageType::kData, 1, 1);
  EXPECT_FALSE(parse_udp_message(Bytes(buf).first(kDatagramSize - 1)));
  buf[2] = 1;
  EXPECT_FALSE(parse_udp_message(buf));
  buf[2] = 0;
  buf[0] = 9;
  EXPECT_FALSE(parse_udp_message(buf));
  buf[0] = 0;
  EXPECT_FALSE(parse_udp_message(buf));
}

}  // namespace
}  // namespace nyx::transport
