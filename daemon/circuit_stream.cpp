#include "daemon/circuit_stream.hpp"

#include <utility>

namespace nyx::daemon {

CircuitStream::CircuitStream(CircuitSession& session, stream::StreamId id)
    : session_(&session),
      id_(id),
      readable_(session.executor()),
      writable_(session.executor()),
      failed_event_(session.executor()) {
  traffic_.started = session.clock().now();
  session.attach(id, *this);
  // Data may have arrived before anyone listened (the exit's incoming
  // stream comes with its first bytes): the first read looks, not waits.
  readable_.set();
  writable_.set();
}

CircuitStream::~CircuitStream() {
  if (session_ == nullptr) {
    return;
  }
  if (!finished_ && !released_) {
    (void)session_->session().reset(id_, 0);
  }
  session_->detach(id_);
  session_->wake();
}

void CircuitStream::on_stream_event(const stream::Event& event) {
  switch (event.type) {
    case stream::EventType::kReadable:
      readable_.set();
      break;
    case stream::EventType::kWritable:
      writable_.set();
      break;
    case stream::EventType::kStreamReset:
      fail(
          Error{ErrorCategory::kClosed, static_cast<int>(event.code), "the peer reset the stream"});
      break;
    case stream::EventType::kStopSending:
      fail(Error{ErrorCategory::kClosed, static_cast<int>(event.code),
                 "the peer stopped reading the stream"});
      break;
    case stream::EventType::kStreamClosed:
      // Both sides are done and every byte was read: nothing waits for
      // more, but a waiter must not sleep on.
      released_ = true;
      readable_.set();
      writable_.set();
      break;
    case stream::EventType::kClosed:
      session_ = nullptr;
      fail(Error{ErrorCategory::kClosed, 0, "the circuit closed"});
      break;
    default:
      break;
  }
}

Status CircuitStream::usable() const {
  if (failed_) {
    return std::unexpected(*failed_);
  }
  return {};
}

void CircuitStream::fail(Error why) {
  if (!failed_) {
    failed_ = std::move(why);
  }
  readable_.set();
  writable_.set();
  failed_event_.set();
}

asio::awaitable<void> CircuitStream::wait_failed() { (void)co_await failed_event_.wait(); }

asio::awaitable<Status> CircuitStream::wait_readable() {
  if (auto ok = usable(); !ok) {
    co_return ok;
  }
  if (const auto ec = co_await readable_.wait()) {
    co_return make_error(ErrorCategory::kTimeout, "stopped waiting for the stream");
  }
  co_return usable();
}

Result<stream::ReadResult> CircuitStream::read_available(MutableBytes out) {
  if (auto ok = usable(); !ok) {
    return std::unexpected(ok.error());
  }
  stream::ReadResult total;
  while (total.bytes < out.size()) {
    auto read = session_->session().read(id_, out.subspan(total.bytes));
    if (!read) {
      // Released by the session while nobody was reading (a reset whose
      // event went to no one): the error says it.
      fail(read.error());
      return std::unexpected(read.error());
    }
    total.bytes += read->bytes;
    if (read->fin) {
      total.fin = true;
      break;
    }
    if (read->bytes == 0) {
      break;
    }
  }
  traffic_.bytes_down += total.bytes;
  if (total.bytes == 0 && !total.fin) {
    readable_.reset();  // the next kReadable sets it
  } else {
    session_->wake();  // the read may have opened the window
  }
  return total;
}

asio::awaitable<Result<stream::ReadResult>> CircuitStream::read_some(MutableBytes out) {
  for (;;) {
    if (auto ready = co_await wait_readable(); !ready) {
      co_return std::unexpected(ready.error());
    }
    auto read = read_available(out);
    if (!read || read->bytes > 0 || read->fin) {
      co_return read;
    }
  }
}

asio::awaitable<Status> CircuitStream::write_all(Bytes data) {
  while (!data.empty()) {
    if (auto ok = usable(); !ok) {
      co_return ok;
    }
    auto written = session_->session().write(id_, data);
    if (!written) {
      fail(written.error());
      co_return std::unexpected(written.error());
    }
    traffic_.bytes_up += *written;
    data = data.subspan(*written);
    session_->wake();
    if (!data.empty()) {
      writable_.reset();  // kWritable sets it when credit arrives
      if (const auto ec = co_await writable_.wait()) {
        co_return make_error(ErrorCategory::kTimeout, "stopped waiting for the stream");
      }
    }
  }
  co_return usable();
}

Status CircuitStream::finish() {
  if (auto ok = usable(); !ok) {
    return ok;
  }
  finished_ = true;
  auto finished = session_->session().finish(id_);
  session_->wake();
  return finished;
}

void CircuitStream::reset() {
  // After our FIN too: data still unacknowledged is abandoned with it.
  if (session_ != nullptr && !released_) {
    (void)session_->session().reset(id_, 0);
    session_->wake();
  }
  finished_ = true;
  fail(Error{ErrorCategory::kClosed, 0, "the stream was reset"});
}

}  // namespace nyx::daemon
