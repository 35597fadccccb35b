// HalfOpenTable: responder handshakes awaiting message 3, oldest first, found
// by the initiator's sender index; taking one removes it from both views.

#include "transport/detail/half_open_table.hpp"

#include <chrono>
#include <memory>

#include <gtest/gtest.h>

#include "core/crypto/x25519.hpp"

namespace nyx::transport::detail {
namespace {

class HalfOpenTableTest : public ::testing::Test {
 protected:
  std::unique_ptr<HalfOpen> half_open(std::uint32_t local, std::uint32_t sender, Nanos created) {
    return std::make_unique<HalfOpen>(
        HalfOpen{NoiseHandshake::responder(identity_, as_bytes(kLinkPrologue)),
                 local,
                 sender,
                 asio::ip::udp::endpoint{},
                 created,
                 {}});
  }

  crypto::X25519KeyPair identity_ = crypto::X25519KeyPair::generate();
};

TEST_F(HalfOpenTableTest, OldestFirstAndFoundBySender) {
  HalfOpenTable table;
  EXPECT_EQ(table.oldest(), nullptr);
  table.add(half_open(1, 101, Nanos{std::chrono::seconds(1)}));
  table.add(half_open(2, 102, Nanos{std::chrono::seconds(2)}));
  EXPECT_EQ(table.size(), 2u);
  ASSERT_NE(table.oldest(), nullptr);
  EXPECT_EQ(table.oldest()->local_index, 1u);
  ASSERT_NE(table.find_by_sender(102), nullptr);
  EXPECT_EQ(table.find_by_sender(102)->local_index, 2u);
  EXPECT_EQ(table.find_by_sender(103), nullptr);
}

TEST_F(HalfOpenTableTest, TakeRemovesFromBothViews) {
  HalfOpenTable table;
  table.add(half_open(1, 101, Nanos{}));
  table.add(half_open(2, 102, Nanos{}));
  table.add(half_open(3, 103, Nanos{}));
  auto taken = table.take(*table.find_by_sender(102));
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(taken->local_index, 2u);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.find_by_sender(102), nullptr);
  EXPECT_EQ(table.take(*taken), nullptr);  // no longer held

  auto oldest = table.take(*table.oldest());
  EXPECT_EQ(oldest->local_index, 1u);
  EXPECT_EQ(table.oldest()->local_index, 3u);
  EXPECT_EQ(table.find_by_sender(101), nullptr);
}

}  // namespace
}  // namespace nyx::transport::detail
