#include "core/metrics/detail/thread_slot.hpp"

#include <atomic>
#include <bit>
#include <cstdint>

namespace nyx::metrics::detail {
namespace {

static_assert(kSlots <= 64, "slots are tracked in one 64-bit mask");

std::atomic<std::uint64_t> g_taken{0};

// Returns the thread's slot when the thread exits. Later metric updates from
// other thread_local destructors go to the shared overflow slot.
struct SlotRelease {
  std::size_t slot = kOverflowSlot;
  ~SlotRelease() {
    tls_slot_plus_one = kOverflowSlot + 1;
    if (slot != kOverflowSlot) {
      g_taken.fetch_and(~(std::uint64_t{1} << slot), std::memory_order_release);
    }
  }
};

thread_local SlotRelease t_release;

}  // namespace

std::size_t claim_thread_slot() noexcept {
  std::uint64_t taken = g_taken.load(std::memory_order_relaxed);
  std::size_t slot = kOverflowSlot;
  for (;;) {
    const auto free_index = static_cast<std::size_t>(std::countr_one(taken));
    if (free_index >= kSlots) {
      break;
    }
    if (g_taken.compare_exchange_weak(taken, taken | (std::uint64_t{1} << free_index),
                                      std::memory_order_acquire, std::memory_order_relaxed)) {
      slot = free_index;
      break;
    }
  }
  t_release.slot = slot;
  tls_slot_plus_one = slot + 1;
  return slot;
}

}  // namespace nyx::metrics::detail
