#include "async/deferred_callback.hpp"

#include <utility>

#include <asio/post.hpp>

namespace nyx::async {

DeferredCallback::DeferredCallback(asio::any_io_executor executor, std::function<void()> callback)
    : executor_(std::move(executor)), state_(std::make_shared<State>()) {
  state_->callback = std::move(callback);
}

DeferredCallback::~DeferredCallback() { cancel(); }

void DeferredCallback::schedule() {
  if (state_->scheduled) {
    return;
  }
  state_->scheduled = true;
  asio::post(executor_, [state = state_, turn = state_->turn] {
    // A handler from before a cancel() (or the owner's destruction) finds
    // its turn gone and runs nothing.
    if (!state->scheduled || state->turn != turn) {
      return;
    }
    state->scheduled = false;
    state->callback();
  });
}

void DeferredCallback::cancel() noexcept {
  state_->scheduled = false;
  ++state_->turn;
}

}  // namespace nyx::async
