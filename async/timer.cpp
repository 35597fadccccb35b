#include "async/timer.hpp"

#include "async/use_result.hpp"

namespace nyx::async {

Timer::Timer(const asio::any_io_executor& executor, TimerService& service)
    : service_(service), state_(std::make_shared<State>(executor)) {}

Timer::~Timer() {
  service_.disarm(*this);
  cancel();
}

void Timer::expires_at(Nanos deadline) {
  service_.disarm(*this);  // under the old expiry, which is how a service finds it
  ++state_->changes;
  expiry_ = deadline;
  service_.arm(*this, deadline);
}

void Timer::cancel() {
  ++state_->changes;
  state_->steady.cancel();
}

void Timer::fire() {
  state_->fired_at = ++state_->changes;
  // Ends the pending waits (outcome() reads them as expired) and lets later
  // ones complete at once, as they would on an expired asio timer.
  state_->steady.expires_at(asio::steady_timer::time_point::min());
}

asio::awaitable<asio::error_code> Timer::wait_on(std::shared_ptr<State> state) {
  const std::uint64_t start = state->changes;
  auto [ec] = co_await state->steady.async_wait(use_result);
  co_return state->outcome(start, ec);
}

asio::steady_timer& TimerService::steady_timer_of(Timer& timer) noexcept {
  return timer.state_->steady;
}

void TimerService::fire(Timer& timer) { timer.fire(); }

}  // namespace nyx::async
