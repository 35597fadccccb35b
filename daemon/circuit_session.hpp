#pragma once
// CircuitSession: a stream::Session running over one datagram channel (a
// mix::Circuit in the node, an in-memory pipe in tests), driven on an asio
// executor. Arriving datagrams go to the session; transmits are polled until
// the session has nothing or the channel pushes back (kResourceExhausted),
// and a pushed-back session is retried shortly after; one steady_timer is
// armed at the session's next deadline. Session events go to the handler
// attached to their stream; new streams from the peer to the incoming
// handler.
//
// Time is read from the injected Clock only. Whoever writes to or reads from
// the session outside an event (the application after its own I/O) calls
// wake() so the new work is flushed this turn.
//
// Ownership and threading: owned by the component that made it (circuit
// manager, exit connector); it owns the channel. Every call, every handler
// runs on the executor's single thread. A stream handler must not destroy the
// session (the closed handler may). Handlers stay attached until their
// stream's kStreamClosed or the session's kClosed, or until detach(); a
// session destroyed with handlers still attached gives each of them kClosed.

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

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

class CircuitSession final : public DatagramChannel, public DatagramReceiver {
 public:
  using IncomingHandler = std::function<void(stream::StreamId)>;
  using ClosedHandler = std::function<void()>;

  CircuitSession(asio::any_io_executor executor, const Clock& clock,
                 std::unique_ptr<DatagramChannel> channel, stream::Role role,
                 const stream::SessionConfig& config = {});
  ~CircuitSession() override;
  CircuitSession(const CircuitSession&) = delete;
  CircuitSession& operator=(const CircuitSession&) = delete;

  stream::Session& session() noexcept { return session_; }
  DatagramChannel& channel() noexcept { return *channel_; }
  const Clock& clock() const noexcept { return clock_; }

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
  // Expires when this session is destroyed, for those that outlive it.
  std::weak_ptr<CircuitSession*> alive() const noexcept { return alive_; }
  // The session behind an alive() handle, or null once it is destroyed. Use
  // this rather than holding lock() across a call: expiry must stay visible.
  static CircuitSession* from(const std::weak_ptr<CircuitSession*>& alive) noexcept;

 private:
  // The driver's side: a pass-through to the owned channel that remembers
  // pushback, so the owner knows to retry.
  std::size_t max_datagram_size() const noexcept override;
  Status send(Bytes datagram) override;
  void set_receiver(DatagramReceiver* receiver) noexcept override { driver_rx_ = receiver; }
  void on_datagram(Bytes datagram) override;

  void run();
  // False when the closed handler destroyed this session.
  bool dispatch();
  void arm_timer();

  asio::any_io_executor executor_;
  const Clock& clock_;
  std::unique_ptr<DatagramChannel> channel_;
  stream::Session session_;
  DatagramReceiver* driver_rx_ = nullptr;
  stream::SessionDriver driver_;
  asio::steady_timer timer_;
  std::unordered_map<stream::StreamId, StreamHandler*> handlers_;
  IncomingHandler incoming_;
  ClosedHandler closed_;
  bool run_posted_ = false;
  bool pushed_back_ = false;
  bool closed_reported_ = false;
  // Posted handlers hold a weak_ptr to this, so they do nothing once the
  // session is gone.
  std::shared_ptr<CircuitSession*> alive_;
};

// StreamPipe: carries bytes both ways between a TCP socket and a stream of a
// CircuitSession, under backpressure both ways: a short stream write stops
// reading the socket until kWritable, and a pending socket write stops
// reading the stream (whose flow-control window then closes). Socket EOF
// finishes the stream and the stream's FIN shuts the socket's sending side;
// a stream reset, or the session's end, closes the socket abortively (RST),
// and a socket error resets the stream. Writes to the socket are batched: one
// write carries everything the stream has ready, up to 64 KiB.
//
// Used by both ends of the data path (SOCKS bridge, exit connector). It keeps
// itself alive until both directions are done (then calls on_done), so the
// caller only starts it. Runs on the session's executor thread.
class StreamPipe final : public StreamHandler, public std::enable_shared_from_this<StreamPipe> {
 public:
  using DoneHandler = std::function<void(bool clean)>;

  // early: bytes already read from the stream that go to the socket first.
  static void start(CircuitSession& session, stream::StreamId id, asio::ip::tcp::socket socket,
                    std::vector<std::uint8_t> early, DoneHandler on_done);

  StreamPipe(CircuitSession& session, stream::StreamId id, asio::ip::tcp::socket socket,
             DoneHandler on_done);
  void on_stream_event(const stream::Event& event) override;
  StreamTraffic traffic() const override { return traffic_; }

 private:
  void refresh() noexcept;  // forgets a session that is gone
  void read_socket();
  void push_up();
  void pull_down();
  void fail();
  void maybe_done();

  CircuitSession* session_;  // null once the session ended
  std::weak_ptr<CircuitSession*> session_alive_;
  stream::StreamId id_;
  asio::ip::tcp::socket socket_;
  DoneHandler on_done_;
  std::vector<std::uint8_t> up_;  // socket -> stream
  std::size_t up_size_ = 0;
  std::size_t up_sent_ = 0;
  std::vector<std::uint8_t> down_;  // stream -> socket
  std::size_t down_size_ = 0;
  bool reading_socket_ = false;
  bool writing_socket_ = false;
  bool up_done_ = false;    // FIN sent on the stream
  bool down_done_ = false;  // the stream's FIN reached the socket
  bool failed_ = false;
  bool finished_ = false;
  StreamTraffic traffic_;
  std::shared_ptr<StreamPipe> self_;  // held until done
};

}  // namespace nyx::daemon
