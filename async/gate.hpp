#pragma once
// Gate: tracks the in-flight work of a component so that stopping it can
// refuse new work and wait for the old (Seastar's gate). Each task, callback
// or coroutine holds a Holder from enter() while it runs; close() refuses
// further entries, and wait_closed() completes once every holder has left.
//
// A holder may outlive the gate (a handler that completes after its owner was
// destroyed): it then reads gate_closed() as true and must return without
// touching its owner. That check is the one "is the owner still there" test
// of the code base; no component keeps a token of its own.
//
// Owned by the component whose work it guards; single executor, not
// thread-safe (holders must be entered and left on that executor).

#include <cstddef>
#include <memory>
#include <optional>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "async/async_event.hpp"

namespace nyx::async {

class Gate {
  struct State;

 public:
  // Proof of entry; leaving the gate is destroying (or moving from) it.
  class Holder {
   public:
    Holder(Holder&& other) noexcept = default;
    Holder& operator=(Holder&& other) noexcept;
    ~Holder();
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;

    // True once the gate is closed or destroyed: the work should wind up.
    bool gate_closed() const noexcept;

   private:
    friend class Gate;
    explicit Holder(std::shared_ptr<State> state) noexcept;
    void leave() noexcept;

    std::shared_ptr<State> state_;
  };

  explicit Gate(const asio::any_io_executor& executor);
  ~Gate();  // closes
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  // A holder, or nothing once the gate is closed.
  std::optional<Holder> enter();
  // Refuses new entries; the holders inside carry on until they leave.
  void close();
  // Completes once the gate is closed and the last holder has left.
  asio::awaitable<void> wait_closed();

  bool closed() const noexcept;
  std::size_t holders() const noexcept;

 private:
  struct State {
    explicit State(const asio::any_io_executor& executor) : drained(executor) {}
    AsyncEvent drained;
    std::size_t holders = 0;
    bool closed = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace nyx::async
