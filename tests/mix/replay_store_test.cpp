#include <gtest/gtest.h>

#include "mix/memory_replay_store.hpp"

namespace nyx::mix {
namespace {

ReplayTag tag(std::uint8_t n) {
  ReplayTag t{};
  t.fill(n);
  return t;
}

TEST(MemoryReplayStore, RemembersEveryTagItTook) {
  MemoryReplayStore store(3);
  EXPECT_FALSE(store.contains(tag(1)));
  ASSERT_TRUE(store.insert(tag(1)).has_value());
  ASSERT_TRUE(store.insert(tag(2)).has_value());
  EXPECT_TRUE(store.contains(tag(1)));
  EXPECT_TRUE(store.contains(tag(2)));
  EXPECT_FALSE(store.contains(tag(3)));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.capacity(), 3u);
  EXPECT_FALSE(store.full());
}

// Forgetting a tag to make room would let its CREATE be replayed: a full
// store refuses instead, and keeps what it has.
TEST(MemoryReplayStore, AtCapacityItRefusesAndForgetsNothing) {
  MemoryReplayStore store(2);
  ASSERT_TRUE(store.insert(tag(1)).has_value());
  ASSERT_TRUE(store.insert(tag(2)).has_value());
  EXPECT_TRUE(store.full());
  auto refused = store.insert(tag(3));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().category, ErrorCategory::kResourceExhausted);
  EXPECT_FALSE(store.contains(tag(3)));
  EXPECT_TRUE(store.contains(tag(1)));
  EXPECT_TRUE(store.contains(tag(2)));
}

}  // namespace
}  // namespace nyx::mix
