#include "async/manual_timers.hpp"

#include <algorithm>

namespace nyx::async {

void ManualTimers::advance(Nanos by) {
  const Nanos target = clock_.now() + std::max(by, Nanos{0});
  while (!armed_.empty() && armed_.begin()->first <= target) {
    const auto due = armed_.begin();
    Timer& timer = *due->second;
    clock_.set(std::max(clock_.now(), due->first));
    armed_.erase(due);
    fire(timer);
    run_ready();
  }
  clock_.set(target);
  run_ready();
}

std::optional<Nanos> ManualTimers::next_deadline() const {
  if (armed_.empty()) {
    return std::nullopt;
  }
  return armed_.begin()->first;
}

void ManualTimers::arm(Timer& timer, Nanos deadline) {
  // Parked until fired; expires_at also ends the pending waits, as asked.
  steady_timer_of(timer).expires_at(asio::steady_timer::time_point::max());
  if (deadline <= clock_.now()) {
    fire(timer);  // already due: its waits complete in the next turn
    return;
  }
  armed_.emplace(deadline, &timer);
}

void ManualTimers::disarm(Timer& timer) noexcept {
  auto [first, last] = armed_.equal_range(timer.expiry());
  const auto it =
      std::find_if(first, last, [&](const auto& entry) { return entry.second == &timer; });
  if (it != last) {
    armed_.erase(it);
  }
}

// A stopped io_context runs nothing until restarted; the test's loop may have
// run it out of work.
void ManualTimers::run_ready() {
  io_.restart();
  io_.poll();
}

}  // namespace nyx::async
