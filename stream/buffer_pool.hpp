#pragma once
// Size-classed, pooled byte buffers for the stream layer.
//
// Three classes: small (1 KiB, one cell's payload), medium (16 KiB) and large
// (64 KiB). Every thread has a small cache per class in front of one shared
// pool per class. Acquire and release hit the thread's cache without any
// atomic read-modify-write or lock; only a batch refill from, or drain to,
// the shared pool takes that class's mutex (one transfer moves half a cache).
// Each class keeps at most 4 MiB of free blocks in its shared pool and hands
// the rest back to the allocator.
//
// Buffer is the one move-only owner of a block; freeze() turns it into a
// Slice, an immutable reference-counted view (the count is intrusive, in the
// block's header), so bytes pass between layers without a copy. A block goes
// back to the pool when its owner or last slice goes away, on whichever thread
// that happens. Under ASan a released block is poisoned, so a use after
// release is reported.
//
// Thread-safety: BufferPool's static functions are thread-safe. A Buffer is
// used by one thread at a time; Slices of one block may live on many threads.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "core/bytes.hpp"
#include "core/error.hpp"

// Under ASan (GCC's __SANITIZE_ADDRESS__, clang's __has_feature) released
// blocks are poisoned.
#if defined(__SANITIZE_ADDRESS__)
#define NYX_STREAM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NYX_STREAM_ASAN 1
#endif
#endif

namespace nyx::stream {

enum class SizeClass : std::uint8_t { kSmall = 0, kMedium = 1, kLarge = 2 };
inline constexpr std::size_t kSizeClassCount = 3;
inline constexpr std::size_t kSmallBufferSize = 1024;
inline constexpr std::size_t kMediumBufferSize = 16 * 1024;
inline constexpr std::size_t kLargeBufferSize = 64 * 1024;

constexpr std::size_t capacity_of(SizeClass c) noexcept {
  switch (c) {
    case SizeClass::kSmall:
      return kSmallBufferSize;
    case SizeClass::kMedium:
      return kMediumBufferSize;
    case SizeClass::kLarge:
      return kLargeBufferSize;
  }
  return 0;
}

namespace detail {
// Sits in front of every block's bytes; one cache line so the bytes start
// cache-aligned and the count never shares a line with the payload.
struct alignas(64) BlockHeader {
  std::atomic<std::uint32_t> refs{1};
  SizeClass size_class = SizeClass::kSmall;
};
inline std::uint8_t* block_data(BlockHeader* h) noexcept {
  return reinterpret_cast<std::uint8_t*>(h) + sizeof(BlockHeader);
}

// Blocks a thread keeps per class: 64 KiB of small, 256 KiB each of medium
// and large, enough to absorb a burst without touching the shared pool.
inline constexpr std::array<std::uint32_t, kSizeClassCount> kCacheCapacity = {64, 16, 4};
inline constexpr std::uint32_t kMaxCacheCapacity = 64;

// One thread's cache. Only the owning thread writes the counts; other
// threads read them (relaxed) for statistics, hence the atomics: a relaxed
// load or store is a plain move, so the hot path has no locked instruction.
struct ThreadCache {
  std::array<std::atomic<std::uint32_t>, kSizeClassCount> count{};
  std::array<std::array<BlockHeader*, kMaxCacheCapacity>, kSizeClassCount> blocks{};
};

// Constant-initialised and inline, so every translation unit reads it
// without a TLS guard or wrapper call; set on a thread's first slow path.
inline thread_local ThreadCache* tl_cache = nullptr;

BlockHeader* acquire_slow(SizeClass c);
void release_slow(BlockHeader* h) noexcept;
void poison(BlockHeader* h) noexcept;
void unpoison(BlockHeader* h) noexcept;

#if defined(NYX_STREAM_ASAN)
inline constexpr bool kPoison = true;
#else
inline constexpr bool kPoison = false;
#endif

inline BlockHeader* acquire_block(SizeClass c) {
  const auto ci = static_cast<std::size_t>(c);
  ThreadCache* tc = tl_cache;
  if (tc != nullptr) {
    const std::uint32_t n = tc->count[ci].load(std::memory_order_relaxed);
    if (n != 0) {
      BlockHeader* h = tc->blocks[ci][n - 1];
      tc->count[ci].store(n - 1, std::memory_order_relaxed);
      if constexpr (kPoison) {
        unpoison(h);
      }
      h->refs.store(1, std::memory_order_relaxed);
      return h;
    }
  }
  BlockHeader* h = acquire_slow(c);
  h->refs.store(1, std::memory_order_relaxed);
  return h;
}

inline void release_block(BlockHeader* h) noexcept {
  if constexpr (kPoison) {
    poison(h);
  }
  const auto ci = static_cast<std::size_t>(h->size_class);
  ThreadCache* tc = tl_cache;
  if (tc != nullptr) {
    const std::uint32_t n = tc->count[ci].load(std::memory_order_relaxed);
    if (n < kCacheCapacity[ci]) {
      tc->blocks[ci][n] = h;
      tc->count[ci].store(n + 1, std::memory_order_relaxed);
      return;
    }
  }
  release_slow(h);
}
}  // namespace detail

class Slice;

// The move-only owner of one pooled block. size() is how much of the
// capacity holds data; the owner sets it.
class Buffer {
 public:
  Buffer() noexcept = default;
  Buffer(Buffer&& other) noexcept
      : block_(std::exchange(other.block_, nullptr)), size_(other.size_) {}
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      reset();
      block_ = std::exchange(other.block_, nullptr);
      size_ = other.size_;
    }
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { reset(); }

  explicit operator bool() const noexcept { return block_ != nullptr; }
  std::uint8_t* data() noexcept { return detail::block_data(block_); }
  const std::uint8_t* data() const noexcept { return detail::block_data(block_); }
  std::size_t capacity() const noexcept {
    return block_ != nullptr ? capacity_of(block_->size_class) : 0;
  }
  std::size_t size() const noexcept { return size_; }
  // Precondition: n <= capacity().
  void set_size(std::size_t n) noexcept { size_ = n; }
  MutableBytes space() noexcept { return {data(), capacity()}; }
  Bytes bytes() const noexcept { return {data(), size_}; }

  // Gives the block back to the pool now.
  void reset() noexcept {
    if (block_ != nullptr) {
      detail::release_block(std::exchange(block_, nullptr));
    }
    size_ = 0;
  }

  // Ends ownership: the bytes [0, size()) become an immutable shared Slice.
  Slice freeze() && noexcept;

 private:
  friend class BufferPool;
  explicit Buffer(detail::BlockHeader* block) noexcept : block_(block) {}

  detail::BlockHeader* block_ = nullptr;
  std::size_t size_ = 0;
};

// An immutable, reference-counted view of part of a pooled block. Copying
// bumps the count (one atomic add); the last copy returns the block.
class Slice {
 public:
  Slice() noexcept = default;
  Slice(const Slice& other) noexcept
      : block_(other.block_), offset_(other.offset_), size_(other.size_) {
    if (block_ != nullptr) {
      block_->refs.fetch_add(1, std::memory_order_relaxed);
    }
  }
  Slice(Slice&& other) noexcept
      : block_(std::exchange(other.block_, nullptr)), offset_(other.offset_), size_(other.size_) {}
  Slice& operator=(Slice other) noexcept {
    std::swap(block_, other.block_);
    offset_ = other.offset_;
    size_ = other.size_;
    return *this;
  }
  ~Slice() { reset(); }

  void reset() noexcept {
    if (block_ != nullptr) {
      auto* b = std::exchange(block_, nullptr);
      if (b->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        detail::release_block(b);
      }
    }
    offset_ = size_ = 0;
  }
  explicit operator bool() const noexcept { return block_ != nullptr; }
  const std::uint8_t* data() const noexcept { return detail::block_data(block_) + offset_; }
  std::size_t size() const noexcept { return size_; }
  Bytes bytes() const noexcept { return {data(), size_}; }

  // A narrower view sharing the same block; an out-of-range request is
  // clamped to this slice's bounds.
  Slice subslice(std::size_t offset, std::size_t length) const noexcept;

 private:
  friend class Buffer;
  Slice(detail::BlockHeader* block, std::size_t offset, std::size_t size) noexcept
      : block_(block), offset_(offset), size_(size) {}

  detail::BlockHeader* block_ = nullptr;
  std::size_t offset_ = 0;
  std::size_t size_ = 0;
};

// Counts of one size class, in bytes of capacity.
struct PoolStats {
  std::size_t in_use_bytes = 0;      // held by Buffers and Slices now
  std::size_t high_water_bytes = 0;  // the most ever in use (see buffer_pool.cpp)
  std::size_t free_bytes = 0;        // free in the shared pool and thread caches
};

// The process-wide pool. Static functions only: there is one pool per process,
// so that a block can be released on any thread without knowing its origin.
class BufferPool {
 public:
  // A buffer of the given class (never fails short of memory exhaustion,
  // which terminates as operator new does).
  static Buffer acquire(SizeClass size_class) { return Buffer(detail::acquire_block(size_class)); }
  // A buffer of the smallest class that holds n bytes; kInvalidArgument when
  // n is larger than the large class.
  static Result<Buffer> acquire_at_least(std::size_t n) {
    if (n > kLargeBufferSize) {
      return make_error(ErrorCategory::kInvalidArgument, "buffer larger than the large size class");
    }
    return acquire(n <= kSmallBufferSize    ? SizeClass::kSmall
                   : n <= kMediumBufferSize ? SizeClass::kMedium
                                            : SizeClass::kLarge);
  }

  static PoolStats stats(SizeClass size_class) noexcept;
  // Sum of in_use_bytes over all classes.
  static std::size_t in_use_bytes() noexcept;
};

}  // namespace nyx::stream
