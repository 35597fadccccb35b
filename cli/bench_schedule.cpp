#include "cli/bench_schedule.hpp"

#include <algorithm>

namespace nyx::cli {

OpenLoopSchedule::OpenLoopSchedule(Nanos start, Nanos end, double rate) noexcept
    : start_(start), end_(end), interval_ns_(rate > 0 ? 1e9 / rate : 0) {}

std::optional<OpenLoopSchedule::Slot> OpenLoopSchedule::take(const Clock& clock) noexcept {
  // Multiplying instead of accumulating keeps the n-th due time exact.
  const Nanos due =
      start_ + Nanos{static_cast<std::int64_t>(static_cast<double>(taken_) * interval_ns_)};
  if (due >= end_) {
    return std::nullopt;
  }
  ++taken_;
  return Slot{due, std::max(Nanos{0}, due - clock.now())};
}

}  // namespace nyx::cli
