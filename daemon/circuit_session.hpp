#pragma once
// CircuitSession: a stream::Session running over one datagram channel (a
// mix::Circuit in the node, an in-memory pipe in tests), driven on an asio
// executor. Arriving datagrams go to the session; transmits are polled until
// the session has nothing or the channel pushes back (SendOutcome::kBlocked),
// and one async::Timer is armed at the session's next deadline, which a
// pushed-back session keeps within its pushback_retry, so the refused
// datagram is offered again shortly after. Session events go to the handler
// attached to their stream; new streams from the peer to the incoming
// handler.
//
// Time is read from the injected Clock only, and the timer runs on the
// injected TimerService on that clock's axis (the node passes SteadyClock and
// SteadyTimers; tests ManualClock and ManualTimers, and move time). Whoever writes to or reads from
// the session outside an event (the application after its own I/O) calls
// wake() so the new work is flushed this turn.
//
// Ownership and threading: owned by the component that made it (circuit
// manager, exit connector); it owns the channel. Every call, every handler
// runs on the executor's single thread. A stream handler must not destroy the
// session (the closed handler may). A handler stays attached until it
// detaches, through its stream's kStreamClosed, until the session's kClosed;
// a session destroyed with handlers still attached gives each of them
// kClosed. That is the whole lifetime contract: a handler holds the session
// until kClosed and must not after, so nothing keeps a token of its own.

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include <asio/any_io_executor.hpp>

#include "async/deferred_callback.hpp"
#include "async/gate.hpp"
#include "async/timer.hpp"
#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/datagram_channel.hpp"
#include "stream/session.hpp"
#include "stream/session_driver.hpp"

namespace nyx::daemon {

// What a stream carried, for streams.list.
struct StreamTraffic {
  std::uint64_t bytes_up = 0;    // from the local socket into the stream
  std::uint64_t bytes_down = 0;  // from the stream to the local socket
  Nanos started{0};              // on the session's clock
};

// Receives the session's events about one stream; kClosed when the whole
// session (the circuit) ended.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  virtual void on_stream_event(const stream::Event& event) = 0;
  // Handlers that move bytes say how many.
  virtual StreamTraffic traffic() const { return {}; }
};

class CircuitSession final : public DatagramReceiver {
 public:
  using IncomingHandler = std::function<void(stream::StreamId)>;
  using ClosedHandler = std::function<void()>;

  // `timers` must be the service whose clock() is `clock`.
  CircuitSession(asio::any_io_executor executor, const Clock& clock, async::TimerService& timers,
                 std::unique_ptr<DatagramChannel> channel, stream::Role role,
                 const stream::SessionConfig& config = {});
  ~CircuitSession() override;
  CircuitSession(const CircuitSession&) = delete;
  CircuitSession& operator=(const CircuitSession&) = delete;

  stream::Session& session() noexcept { return session_; }
  const Clock& clock() const noexcept { return clock_; }
  const asio::any_io_executor& executor() const noexcept { return executor_; }

  void set_incoming_handler(IncomingHandler handler) { incoming_ = std::move(handler); }
  // Called once, after every handler saw kClosed.
  void set_closed_handler(ClosedHandler handler) { closed_ = std::move(handler); }

  Result<stream::StreamId> open_stream();
  void attach(stream::StreamId id, StreamHandler& handler);
  void detach(stream::StreamId id) noexcept;
  // Every stream with a handler attached.
  template <class F>
  void for_each_stream(F&& visit) const {
    for (const auto& [id, handler] : handlers_) {
      visit(id, *handler);
    }
  }
  // Schedules a run of the session on this turn (after writes and reads).
  void wake();
  // The channel is gone (a destroyed circuit): the session closes and every
  // stream handler sees kClosed.
  void channel_closed();
  // Closes the session (CLOSE goes out if the channel still takes it).
  void close();
  bool is_closed() const noexcept { return session_.is_closed(); }

 private:
  // The channel's receiver: the datagram goes to the driver, and a run is
  // scheduled for what it makes the session do.
  void on_datagram(Bytes datagram) override;

  void run();
  // False when the closed handler destroyed this session.
  bool dispatch();
  void arm_timer();

  asio::any_io_executor executor_;
  const Clock& clock_;
  std::unique_ptr<DatagramChannel> channel_;
  stream::Session session_;
  stream::SessionDriver driver_;
  // The timer's handler holds the gate, so one already queued when the
  // session is destroyed does nothing.
  async::Gate gate_;
  async::Timer timer_;
  async::DeferredCallback run_soon_;  // wake(): one run per turn
  std::unordered_map<stream::StreamId, StreamHandler*> handlers_;
  IncomingHandler incoming_;
  ClosedHandler closed_;
  bool closed_reported_ = false;
};

}  // namespace nyx::daemon
