#pragma once
// Counter: a monotonically increasing count (cells sent, drops, handshakes).
//
// Made and owned by a Registry; references to it stay valid for the
// registry's lifetime. Thread-safe: inc() from any number of threads costs a
// plain load and store on a cache line of the calling thread's own (see
// detail/thread_slot.hpp), value() sums the cells (relaxed: a read racing
// increments sees some of them, and never a count that was not reached).
// The price is memory: one cache line per thread slot, about 1 KiB a counter.
#include <array>
#include <atomic>
#include <cstdint>

#include "core/metrics/detail/thread_slot.hpp"

namespace nyx::metrics {

class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc(std::uint64_t n = 1) noexcept {
    const std::size_t slot = detail::thread_slot();
    std::atomic<std::uint64_t>& cell = cells_[slot].value;
    if (slot != detail::kOverflowSlot) [[likely]] {
      // Only this thread writes this cell, so no read-modify-write is needed.
      cell.store(cell.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    } else {
      cell.fetch_add(n, std::memory_order_relaxed);
    }
  }

  std::uint64_t value() const noexcept {
    std::uint64_t sum = 0;
    for (const Cell& cell : cells_) {
      sum += cell.value.load(std::memory_order_relaxed);
    }
    return sum;
  }

 private:
  struct alignas(64) Cell {
    std::atomic<std::uint64_t> value{0};
  };
  std::array<Cell, detail::kSlots + 1> cells_{};
};

}  // namespace nyx::metrics
