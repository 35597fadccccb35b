#include "stream/buffer_pool.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <new>
#include <vector>

#if defined(NYX_STREAM_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace nyx::stream {
namespace {

using detail::BlockHeader;
using detail::kCacheCapacity;
using detail::poison;
using detail::ThreadCache;
using detail::tl_cache;
using detail::unpoison;

// Free bytes a class keeps in its shared pool; what is released beyond goes
// back to the allocator.
constexpr std::size_t kMaxFreeBytes = 4u << 20;

struct alignas(64) SharedClass {
  std::mutex mu;
  std::vector<BlockHeader*> free;  // guarded by mu
  std::atomic<std::size_t> free_count{0};
  std::atomic<std::size_t> live_blocks{0};  // taken from the allocator, not yet returned
  std::atomic<std::size_t> high_water_bytes{0};
};

struct Shared {
  std::array<SharedClass, kSizeClassCount> classes;
  std::mutex caches_mu;
  std::vector<ThreadCache*> caches;  // guarded by caches_mu
};

// Never destroyed: threads may release blocks while static destructors run.
Shared& shared() noexcept {
  static Shared* s = new Shared;
  return *s;
}

BlockHeader* allocate_block(SizeClass c) {
  void* p = ::operator new(sizeof(BlockHeader) + capacity_of(c), std::align_val_t{64});
  auto* h = new (p) BlockHeader;
  h->size_class = c;
  shared().classes[static_cast<std::size_t>(c)].live_blocks.fetch_add(1, std::memory_order_relaxed);
  return h;
}

void free_block(BlockHeader* h) noexcept {
  unpoison(h);
  shared().classes[static_cast<std::size_t>(h->size_class)].live_blocks.fetch_sub(
      1, std::memory_order_relaxed);
  h->~BlockHeader();
  ::operator delete(static_cast<void*>(h), std::align_val_t{64});
}

// Moves blocks into the shared pool of their class up to its bound; frees
// the rest. Takes the class lock once for the whole batch.
void give_to_shared(SizeClass c, BlockHeader* const* blocks, std::size_t n) noexcept {
  SharedClass& sc = shared().classes[static_cast<std::size_t>(c)];
  const std::size_t max_blocks = kMaxFreeBytes / capacity_of(c);
  std::size_t kept = 0;
  {
    std::lock_guard lock(sc.mu);
    const std::size_t room = sc.free.size() < max_blocks ? max_blocks - sc.free.size() : 0;
    kept = std::min(room, n);
    sc.free.insert(sc.free.end(), blocks, blocks + kept);
    sc.free_count.store(sc.free.size(), std::memory_order_relaxed);
  }
  for (std::size_t i = kept; i < n; ++i) {
    free_block(blocks[i]);
  }
}

void flush_cache(ThreadCache& tc) noexcept {
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    const std::uint32_t n = tc.count[c].load(std::memory_order_relaxed);
    give_to_shared(static_cast<SizeClass>(c), tc.blocks[c].data(), n);
    tc.count[c].store(0, std::memory_order_relaxed);
  }
}

thread_local bool tl_exiting = false;

// Owns the thread's cache; its destructor runs at thread exit.
struct CacheOwner {
  CacheOwner() {
    tl_cache = new ThreadCache;
    std::lock_guard lock(shared().caches_mu);
    shared().caches.push_back(tl_cache);
  }
  ~CacheOwner() {
    tl_exiting = true;
    ThreadCache* tc = std::exchange(tl_cache, nullptr);
    {
      std::lock_guard lock(shared().caches_mu);
      auto& v = shared().caches;
      v.erase(std::remove(v.begin(), v.end(), tc), v.end());
    }
    flush_cache(*tc);
    delete tc;
  }
  CacheOwner(const CacheOwner&) = delete;
  CacheOwner& operator=(const CacheOwner&) = delete;
};

ThreadCache* this_thread_cache() {
  if (tl_cache == nullptr && !tl_exiting) {
    thread_local CacheOwner owner;
  }
  return tl_cache;
}

std::size_t cached_blocks(std::size_t c) noexcept {
  std::size_t n = 0;
  std::lock_guard lock(shared().caches_mu);
  for (const ThreadCache* tc : shared().caches) {
    n += tc->count[c].load(std::memory_order_relaxed);
  }
  return n;
}

PoolStats compute_stats(std::size_t c) noexcept {
  SharedClass& sc = shared().classes[c];
  const std::size_t cap = capacity_of(static_cast<SizeClass>(c));
  const std::size_t live = sc.live_blocks.load(std::memory_order_relaxed);
  const std::size_t free_blocks = sc.free_count.load(std::memory_order_relaxed) + cached_blocks(c);
  PoolStats s;
  s.free_bytes = free_blocks * cap;
  s.in_use_bytes = live > free_blocks ? (live - free_blocks) * cap : 0;
  std::size_t hw = sc.high_water_bytes.load(std::memory_order_relaxed);
  while (s.in_use_bytes > hw && !sc.high_water_bytes.compare_exchange_weak(
                                    hw, s.in_use_bytes, std::memory_order_relaxed)) {
  }
  s.high_water_bytes = std::max(hw, s.in_use_bytes);
  return s;
}

}  // namespace

namespace detail {

void poison(BlockHeader* h) noexcept {
#if defined(NYX_STREAM_ASAN)
  ASAN_POISON_MEMORY_REGION(block_data(h), capacity_of(h->size_class));
#else
  (void)h;
#endif
}

void unpoison(BlockHeader* h) noexcept {
#if defined(NYX_STREAM_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(block_data(h), capacity_of(h->size_class));
#else
  (void)h;
#endif
}

// The cache was empty: take half a cache's worth from the shared pool in one
// locked step, or allocate.
BlockHeader* acquire_slow(SizeClass c) {
  const auto ci = static_cast<std::size_t>(c);
  ThreadCache* tc = this_thread_cache();
  SharedClass& sc = shared().classes[ci];
  BlockHeader* out = nullptr;
  {
    std::lock_guard lock(sc.mu);
    if (!sc.free.empty()) {
      out = sc.free.back();
      sc.free.pop_back();
      if (tc != nullptr) {
        const std::size_t want = std::min<std::size_t>(kCacheCapacity[ci] / 2, sc.free.size());
        std::uint32_t n = tc->count[ci].load(std::memory_order_relaxed);
        for (std::size_t i = 0; i < want; ++i) {
          tc->blocks[ci][n++] = sc.free.back();
          sc.free.pop_back();
        }
        tc->count[ci].store(n, std::memory_order_relaxed);
      }
      sc.free_count.store(sc.free.size(), std::memory_order_relaxed);
    }
  }
  if (out == nullptr) {
    out = allocate_block(c);
    unpoison(out);
    // The slow path is the only way in-use can grow past what the caches
    // already hold, so the high-water mark is tracked here.
    compute_stats(ci);
    return out;
  }
  unpoison(out);
  return out;
}

void release_slow(BlockHeader* h) noexcept {
  const auto ci = static_cast<std::size_t>(h->size_class);
  ThreadCache* tc = this_thread_cache();
  if (tc == nullptr) {
    give_to_shared(h->size_class, &h, 1);
    return;
  }
  // Full cache: drain half of it in one batch, then keep h.
  std::uint32_t n = tc->count[ci].load(std::memory_order_relaxed);
  const std::uint32_t drain = n / 2;
  give_to_shared(h->size_class, tc->blocks[ci].data() + (n - drain), drain);
  n -= drain;
  tc->blocks[ci][n++] = h;
  tc->count[ci].store(n, std::memory_order_relaxed);
}

}  // namespace detail

PoolStats BufferPool::stats(SizeClass size_class) noexcept {
  return compute_stats(static_cast<std::size_t>(size_class));
}

std::size_t BufferPool::in_use_bytes() noexcept {
  std::size_t total = 0;
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    total += compute_stats(c).in_use_bytes;
  }
  return total;
}

Slice Buffer::freeze() && noexcept {
  return Slice(std::exchange(block_, nullptr), 0, std::exchange(size_, 0));
}

Slice Slice::subslice(std::size_t offset, std::size_t length) const noexcept {
  const std::size_t off = std::min(offset, size_);
  Slice out(*this);
  out.offset_ += off;
  out.size_ = std::min(length, size_ - off);
  return out;
}

}  // namespace nyx::stream
