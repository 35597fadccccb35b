#include "async/async_event.hpp"

#include <asio/error.hpp>

#include "async/use_result.hpp"

namespace nyx::async {

AsyncEvent::State::State(const asio::any_io_executor& executor)
    : wakeup(executor, asio::steady_timer::time_point::max()) {}

AsyncEvent::AsyncEvent(const asio::any_io_executor& executor)
    : state_(std::make_shared<State>(executor)) {}

AsyncEvent::~AsyncEvent() {
  state_->destroyed = true;
  state_->wakeup.cancel();
}

asio::awaitable<asio::error_code> AsyncEvent::wait() {
  if (state_->is_set) {
    co_return asio::error_code{};
  }
  // Our own reference: `this` may be destroyed while we are parked.
  const std::shared_ptr<State> state = state_;
  const std::uint64_t sets = state->sets;
  co_await state->wakeup.async_wait(use_result);
  if (state->destroyed || state->sets == sets) {
    co_return asio::error::operation_aborted;
  }
  co_return asio::error_code{};
}

void AsyncEvent::set() {
  state_->is_set = true;
  ++state_->sets;
  state_->wakeup.cancel();
}

}  // namespace nyx::async
