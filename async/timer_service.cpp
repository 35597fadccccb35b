#include "async/timer_service.hpp"

namespace nyx::async {

SteadyTimers& SteadyTimers::instance() noexcept {
  static SteadyTimers timers;
  return timers;
}

void SteadyTimers::arm(Timer& timer, Nanos deadline) {
  using std::chrono::steady_clock;
  steady_timer_of(timer).expires_at(
      steady_clock::time_point(std::chrono::duration_cast<steady_clock::duration>(deadline)));
}

}  // namespace nyx::async
