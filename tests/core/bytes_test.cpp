#include "core/bytes.hpp"

#include <array>

#include <gtest/gtest.h>

namespace nyx {
namespace {

TEST(Bytes, BigEndianRoundTrip) {
  std::array<std::uint8_t, 8> buf{};
  store_be64(buf.data(), 0x0102030405060708ULL);
  EXPECT_EQ(buf[0], 0x01);
  EXPECT_EQ(buf[7], 0x08);
  EXPECT_EQ(load_be64(buf.data()), 0x0102030405060708ULL);
  store_be16(buf.data(), 0xBEEF);
  EXPECT_EQ(load_be16(buf.data()), 0xBEEF);
}

TEST(Bytes, ReaderNeverReadsPastTheEnd) {
  const std::array<std::uint8_t, 3> data{1, 2, 3};
  ByteReader r{Bytes{data}};
  std::uint16_t v16 = 0;
  ASSERT_TRUE(r.read_be16(v16));
  EXPECT_EQ(v16, 0x0102);
  std::uint32_t v32 = 0;
  EXPECT_FALSE(r.read_be32(v32));
  EXPECT_EQ(r.remaining(), 1u);
  Bytes view;
  EXPECT_FALSE(r.read_bytes(2, view));
  ASSERT_TRUE(r.read_bytes(1, view));
  EXPECT_EQ(view[0], 3);
  EXPECT_TRUE(r.empty());
}

TEST(Bytes, WriterRefusesWhatDoesNotFit) {
  std::array<std::uint8_t, 5> out{};
  ByteWriter w{MutableBytes{out}};
  const std::array<std::uint8_t, 4> four{0xAA, 0xBB, 0xCC, 0xDD};
  ASSERT_TRUE(w.write_bytes(four));
  EXPECT_FALSE(w.write_bytes(Bytes{four}.first(2)));
  EXPECT_EQ(w.size(), 4u);
  ASSERT_TRUE(w.write_u8(0xEE));
  EXPECT_FALSE(w.write_u8(0xFF));
  EXPECT_EQ(out[3], 0xDD);
  EXPECT_EQ(out[4], 0xEE);
}

}  // namespace
}  // namespace nyx
