#pragma once
// CircuitStream: one stream of a CircuitSession as something a coroutine can
// await (Arti's DataStream): read_some, write_all, finish, reset. It is
// built once on the session's kReadable/kWritable events, so the SOCKS
// entry, the exit connector and the byte pump read top to bottom instead of
// each keeping a handler and its own lifetime.
//
// Lifetime: the stream attaches itself to the session as its handler and
// stays attached until it is destroyed, and the session tells it when it
// ends (kClosed, also from the session's destructor). So `session()` is the
// session while it lives and null after, with no token of its own; a waiter
// wakes with an error the moment the stream or its circuit is gone.
//
// Destroying a stream that was neither finished nor done resets it, so an
// abandoned stream never leaves the peer waiting. Errors: the circuit ended
// (circuit_closed() is then true), the peer reset the stream or asked us to
// stop sending (kClosed), or a wait was cancelled (kTimeout, e.g. by
// async::with_deadline).
//
// Owned by the coroutine that opened or accepted the stream; every call on
// the session's executor thread. One reader and one writer may wait at once.

#include <cstddef>
#include <optional>

#include <asio/awaitable.hpp>

#include "async/async_event.hpp"
#include "core/bytes.hpp"
#include "core/error.hpp"
#include "daemon/circuit_session.hpp"
#include "stream/session.hpp"

namespace nyx::daemon {

class CircuitStream final : public StreamHandler {
 public:
  CircuitStream(CircuitSession& session, stream::StreamId id);
  ~CircuitStream() override;
  CircuitStream(const CircuitStream&) = delete;
  CircuitStream& operator=(const CircuitStream&) = delete;

  // Waits until there are bytes or the FIN to read.
  asio::awaitable<Status> wait_readable();
  // What is there now, up to out.size() bytes, without waiting (0 bytes and
  // no fin: nothing yet).
  Result<stream::ReadResult> read_available(MutableBytes out);
  // At least one byte, or the FIN (fin with 0 bytes).
  asio::awaitable<Result<stream::ReadResult>> read_some(MutableBytes out);
  // Every byte of `data`, waiting for flow-control credit as needed.
  asio::awaitable<Status> write_all(Bytes data);
  // Our side is done (FIN after what was written).
  Status finish();
  // Abandons the stream both ways (RESET_STREAM).
  void reset();
  // Completes when the stream fails (reset either way, the circuit's end),
  // or when the wait is cancelled; a watcher beside the readers and writers.
  asio::awaitable<void> wait_failed();

  // The session while it lives; null once the circuit ended.
  CircuitSession* session() const noexcept { return session_; }
  bool circuit_closed() const noexcept { return session_ == nullptr; }
  stream::StreamId id() const noexcept { return id_; }

  void on_stream_event(const stream::Event& event) override;
  StreamTraffic traffic() const override { return traffic_; }

 private:
  // Why the stream can no longer be used, if it cannot.
  Status usable() const;
  void fail(Error why);

  CircuitSession* session_;
  stream::StreamId id_;
  async::AsyncEvent readable_;
  async::AsyncEvent writable_;
  async::AsyncEvent failed_event_;
  std::optional<Error> failed_;
  bool finished_ = false;  // our FIN or RESET is out
  bool released_ = false;  // the session released the stream (both sides done)
  StreamTraffic traffic_;
};

}  // namespace nyx::daemon
