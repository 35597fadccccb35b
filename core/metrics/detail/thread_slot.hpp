#pragma once
// Per-thread slots for the sharded metric cells (private to core/metrics).
//
// A thread that records a metric is given a slot in [0, kSlots) of its own
// for as long as it lives; every Counter, Histogram and BucketHistogram keeps
// one cell (or shard) per slot, written only by the slot's owner, so an
// increment is a plain load and store (no locked instruction, no cache line
// shared with another writer).
// When more than kSlots threads record at once, the extra ones share the
// overflow slot kSlots, whose cells take atomic read-modify-writes. A slot
// is returned when its thread exits and handed to the next thread that asks;
// the cell values stay (they are sums), and the hand-off goes through an
// atomic with acquire/release, so the next owner sees the last one's writes.

#include <cstddef>

namespace nyx::metrics::detail {

inline constexpr std::size_t kSlots = 16;
inline constexpr std::size_t kOverflowSlot = kSlots;

// Slot + 1 of the calling thread; 0 until it first records.
inline thread_local std::size_t tls_slot_plus_one = 0;

// Claims a slot for the calling thread (kOverflowSlot if none is free).
std::size_t claim_thread_slot() noexcept;

inline std::size_t thread_slot() noexcept {
  const std::size_t slot = tls_slot_plus_one;
  if (slot == 0) [[unlikely]] {
    return claim_thread_slot();
  }
  return slot - 1;
}

}  // namespace nyx::metrics::detail
