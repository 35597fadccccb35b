#pragma once
// CounterDeltas: publishes a struct of plain integer counters (the ones a hot
// path bumps without atomics) into registry Counters. Each field is paired
// with the registry Counter it feeds; publish() adds to each Counter what its
// field grew since the previous publish, so the registry keeps counting across
// calls while the hot path never touches it.
//
// Owned by the component whose counters it publishes; the Counters (and so
// their Registry) must outlive it. Not thread-safe: call publish() on the
// thread that owns the counters struct (the Counters themselves are
// thread-safe to read).

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "core/metrics/counter.hpp"

namespace nyx::metrics {

template <class Counters, std::size_t N>
class CounterDeltas {
 public:
  using Field = std::pair<std::uint64_t Counters::*, Counter*>;

  explicit CounterDeltas(const std::array<Field, N>& fields) : fields_(fields) {}

  // `now` must only have grown since the last call (the fields are totals).
  void publish(const Counters& now) noexcept {
    for (auto& [field, counter] : fields_) {
      if (const std::uint64_t delta = now.*field - published_.*field; delta > 0) {
        counter->inc(delta);
      }
    }
    published_ = now;
  }

 private:
  std::array<Field, N> fields_;
  Counters published_{};
};

}  // namespace nyx::metrics
