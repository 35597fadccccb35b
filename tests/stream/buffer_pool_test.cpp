#include "stream/buffer_pool.hpp"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace nyx::stream {
namespace {

TEST(BufferPool, PicksTheSmallestClassThatFits) {
  EXPECT_EQ(BufferPool::acquire_at_least(1)->capacity(), kSmallBufferSize);
  EXPECT_EQ(BufferPool::acquire_at_least(1024)->capacity(), kSmallBufferSize);
  EXPECT_EQ(BufferPool::acquire_at_least(1025)->capacity(), kMediumBufferSize);
  EXPECT_EQ(BufferPool::acquire_at_least(65536)->capacity(), kLargeBufferSize);
  auto too_big = BufferPool::acquire_at_least(65537);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().category, ErrorCategory::kInvalidArgument);
}

TEST(BufferPool, BufferIsCacheAlignedAndWritable) {
  Buffer b = BufferPool::acquire(SizeClass::kMedium);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64, 0u);
  std::memset(b.data(), 0xab, b.capacity());
  b.set_size(100);
  EXPECT_EQ(b.bytes().size(), 100u);
  EXPECT_EQ(b.bytes()[99], 0xab);
}

TEST(BufferPool, InUseCountsHeldBuffersOnly) {
  const std::size_t before = BufferPool::stats(SizeClass::kLarge).in_use_bytes;
  {
    std::vector<Buffer> held;
    for (int i = 0; i < 10; ++i) {
      held.push_back(BufferPool::acquire(SizeClass::kLarge));
    }
    EXPECT_EQ(BufferPool::stats(SizeClass::kLarge).in_use_bytes, before + 10 * kLargeBufferSize);
    EXPECT_GE(BufferPool::stats(SizeClass::kLarge).high_water_bytes,
              before + 10 * kLargeBufferSize);
  }
  EXPECT_EQ(BufferPool::stats(SizeClass::kLarge).in_use_bytes, before);
}

TEST(BufferPool, MovedBufferReleasesOnce) {
  const std::size_t before = BufferPool::in_use_bytes();
  Buffer a = BufferPool::acquire(SizeClass::kSmall);
  Buffer b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_TRUE(b);
  b = BufferPool::acquire(SizeClass::kSmall);
  EXPECT_EQ(BufferPool::in_use_bytes(), before + kSmallBufferSize);
  b.reset();
  EXPECT_EQ(BufferPool::in_use_bytes(), before);
}

TEST(BufferPool, SlicesShareTheBlockUntilTheLastOneGoes) {
  const std::size_t before = BufferPool::in_use_bytes();
  Buffer b = BufferPool::acquire(SizeClass::kSmall);
  for (std::size_t i = 0; i < 10; ++i) {
    b.data()[i] = static_cast<std::uint8_t>(i);
  }
  b.set_size(10);
  Slice whole = std::move(b).freeze();
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
  Slice mid = whole.subslice(2, 5);
  ASSERT_EQ(mid.size(), 5u);
  EXPECT_EQ(mid.bytes()[0], 2);
  EXPECT_EQ(mid.data(), whole.data() + 2);  // a view, not a copy
  Slice clamped = whole.subslice(8, 100);
  EXPECT_EQ(clamped.size(), 2u);
  whole.reset();
  EXPECT_EQ(BufferPool::in_use_bytes(), before + kSmallBufferSize);
  Slice copy = mid;
  mid.reset();
  clamped.reset();
  EXPECT_EQ(copy.bytes()[4], 6);
  EXPECT_EQ(BufferPool::in_use_bytes(), before + kSmallBufferSize);
  copy.reset();
  EXPECT_EQ(BufferPool::in_use_bytes(), before);
}

TEST(BufferPool, FreeBytesStayWithinTheBound) {
  // 8 MiB released at once: the shared pool keeps 4 MiB, this thread's cache
  // its few blocks, and the rest goes back to the allocator.
  {
    std::vector<Buffer> held;
    for (int i = 0; i < 512; ++i) {
      held.push_back(BufferPool::acquire(SizeClass::kMedium));
    }
  }
  const std::size_t cache = detail::kCacheCapacity[static_cast<std::size_t>(SizeClass::kMedium)];
  EXPECT_LE(BufferPool::stats(SizeClass::kMedium).free_bytes,
            (4u << 20) + cache * kMediumBufferSize);
}

#if defined(NYX_STREAM_ASAN)
TEST(BufferPoolDeathTest, UseAfterReleaseIsReported) {
  EXPECT_DEATH(
      {
        Buffer b = BufferPool::acquire(SizeClass::kSmall);
        std::uint8_t* p = b.data();
        b.reset();
        p[0] = 1;
      },
      "use-after-poison");
}
#endif

}  // namespace
}  // namespace nyx::stream
