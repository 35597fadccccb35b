#pragma once
// CoverTraffic: when one end of a circuit sends its cover cells. They leave
// at Poisson times (exponential gaps of mean 1/rate), drawn without regard
// to data, so their timing says nothing about it; the end seals one RELAY
// cell of type kDrop for each (mix/circuit.hpp), which every relay sees as
// data and the other end drops.
//
// A value owned by its circuit end; one thread. Time comes from the caller.

#include <cstddef>

#include "core/clock.hpp"
#include "mix/path_selector.hpp"

namespace nyx::mix {

// An exponentially distributed delay of mean `mean` (also the relay's
// optional mixing delay).
Nanos exponential_delay(Nanos mean, RandomSource& random);

class CoverTraffic {
 public:
  // Cells per second; 0 turns cover off.
  void set_rate(double cells_per_second) noexcept { rate_ = cells_per_second; }
  double rate() const noexcept { return rate_; }
  // How many cover cells are due by `now`, each due one taken. The first
  // call after the rate is set draws the first time and is usually 0.
  std::size_t take_due(Nanos now, RandomSource& random);

 private:
  double rate_ = 0;
  Nanos next_{0};  // the next cell's time; 0 before the first draw
};

}  // namespace nyx::mix
