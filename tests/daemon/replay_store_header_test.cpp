#include "daemon/replay_store_header.hpp"

#include <array>

#include <gtest/gtest.h>

namespace nyx::daemon {
namespace {

using CloseReason = mix::OnionKeyRing::CloseReason;

constexpr BootId kThisBoot = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

TEST(ReplayStoreHeader, RoundTripsThroughItsBytes) {
  ReplayStoreHeader header;
  header.epoch = 0x0102030405060708;
  header.public_key.fill(0x33);
  header.slots = std::uint64_t{1} << 32;
  header.capacity = std::uint64_t{1} << 31;
  header.hash_key.fill(0x44);
  header.boot_id = kThisBoot;
  header.clean = true;
  header.closed = CloseReason::kStoreMissing;
  std::array<std::uint8_t, kReplayStoreHeaderSize> page;
  encode_replay_store_header(header, page);
  auto parsed = parse_replay_store_header(page);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_EQ(parsed->epoch, header.epoch);
  EXPECT_EQ(parsed->public_key, header.public_key);
  EXPECT_EQ(parsed->slots, header.slots);
  EXPECT_EQ(parsed->capacity, header.capacity);
  EXPECT_EQ(parsed->hash_key, header.hash_key);
  EXPECT_EQ(parsed->boot_id, header.boot_id);
  EXPECT_TRUE(parsed->clean);
  EXPECT_EQ(parsed->closed, CloseReason::kStoreMissing);
  EXPECT_EQ(page[98], 3);
  EXPECT_FALSE(parse_replay_store_header(Bytes(page).first(4095)).has_value());
}

TEST(ReplayStoreBootId, ParsesTheKernelsTextForm) {
  const auto id = parse_boot_id("0123abcd-4567-89ef-ABCD-0123456789ab\n");
  ASSERT_TRUE(id);
  EXPECT_EQ((*id)[0], 0x01);
  EXPECT_EQ((*id)[3], 0xcd);
  EXPECT_EQ((*id)[15], 0xab);
  EXPECT_FALSE(parse_boot_id("0123abcd-4567-89ef-ABCD-0123456789a"));
  EXPECT_FALSE(parse_boot_id("0123abcd+4567-89ef-ABCD-0123456789ab"));
  EXPECT_FALSE(parse_boot_id("0123abcg-4567-89ef-ABCD-0123456789ab"));
  EXPECT_FALSE(parse_boot_id("0123-bcd-4567-89ef-ABCD-0123456789ab"));
  EXPECT_FALSE(parse_boot_id(" 123abcd-4567-89ef-ABCD-0123456789ab"));
  EXPECT_FALSE(parse_boot_id("00000000-0000-0000-0000-000000000000"));
  EXPECT_FALSE(parse_boot_id(""));
  // This machine's, read twice, is the same; a missing file gives none.
  const auto here = read_boot_id();
  ASSERT_TRUE(here) << "/proc/sys/kernel/random/boot_id unreadable";
  EXPECT_EQ(read_boot_id(), here);
  EXPECT_FALSE(read_boot_id("/nonexistent/boot_id"));
}

}  // namespace
}  // namespace nyx::daemon
