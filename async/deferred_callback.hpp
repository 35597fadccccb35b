#pragma once
// DeferredCallback: a callback run in the next turn of an executor, once,
// however many times it was scheduled before it ran (Envoy's
// SchedulableCallback). The usual use is batching: every send of a turn
// calls schedule(), and one flush runs after them.
//
// Destroying it, or cancel(), means the callback does not run afterwards,
// even when its turn was already queued: the queued handler shares a small
// heap state with this object and checks it before running anything.
//
// Owned by the component whose callback it runs; single executor, not
// thread-safe.

#include <cstdint>
#include <functional>
#include <memory>

#include <asio/any_io_executor.hpp>

namespace nyx::async {

class DeferredCallback {
 public:
  DeferredCallback(asio::any_io_executor executor, std::function<void()> callback);
  ~DeferredCallback();
  DeferredCallback(const DeferredCallback&) = delete;
  DeferredCallback& operator=(const DeferredCallback&) = delete;

  // Runs the callback in the next turn (once, however often this is called
  // before then). The callback may schedule itself again.
  void schedule();
  // Drops a run that is scheduled and has not happened yet.
  void cancel() noexcept;
  bool scheduled() const noexcept { return state_->scheduled; }

 private:
  struct State {
    std::function<void()> callback;
    std::uint64_t turn = 0;  // which posted handler may run; bumped by cancel()
    bool scheduled = false;
  };
  asio::any_io_executor executor_;
  std::shared_ptr<State> state_;
};

}  // namespace nyx::async
