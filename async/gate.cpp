#include "async/gate.hpp"

#include <utility>

namespace nyx::async {

Gate::Holder::Holder(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {
  ++state_->holders;
}

Gate::Holder& Gate::Holder::operator=(Holder&& other) noexcept {
  if (this != &other) {
    leave();
    state_ = std::move(other.state_);
  }
  return *this;
}

Gate::Holder::~Holder() { leave(); }

bool Gate::Holder::gate_closed() const noexcept { return !state_ || state_->closed; }

void Gate::Holder::leave() noexcept {
  if (!state_) {
    return;
  }
  if (--state_->holders == 0 && state_->closed) {
    state_->drained.set();
  }
  state_.reset();
}

Gate::Gate(const asio::any_io_executor& executor) : state_(std::make_shared<State>(executor)) {}

Gate::~Gate() { close(); }

std::optional<Gate::Holder> Gate::enter() {
  if (state_->closed) {
    return std::nullopt;
  }
  return Holder(state_);
}

void Gate::close() {
  state_->closed = true;
  if (state_->holders == 0) {
    state_->drained.set();
  }
}

asio::awaitable<void> Gate::wait_closed() {
  // Our own reference, so the wait survives the gate as holders do.
  const std::shared_ptr<State> state = state_;
  co_await state->drained.wait();
}

bool Gate::closed() const noexcept { return state_->closed; }

std::size_t Gate::holders() const noexcept { return state_->holders; }

}  // namespace nyx::async
