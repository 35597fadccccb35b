#include "daemon/circuit_session.hpp"

#include <algorithm>
#include <vector>

namespace nyx::daemon {
namespace {

// The channel cannot carry this session any more: closed, or it refused a
// datagram the driver sized to fit (a bug, treated alike).
bool channel_unusable(SendOutcome outcome) {
  return outcome == SendOutcome::kClosed || outcome == SendOutcome::kTooLarge;
}

}  // namespace

CircuitSession::CircuitSession(asio::any_io_executor executor, const Clock& clock,
                               async::TimerService& timers,
                               std::unique_ptr<DatagramChannel> channel, stream::Role role,
                               const stream::SessionConfig& config)
    : executor_(std::move(executor)),
      clock_(clock),
      channel_(std::move(channel)),
      session_(
          role,
          [&] {
            auto c = config;
            c.max_datagram_size = std::min(c.max_datagram_size, channel_->max_datagram_size());
            return c;
          }(),
          clock.now()),
      driver_(session_, *channel_, clock),
      gate_(executor_),
      timer_(executor_, timers),
      run_soon_(executor_, [this] { run(); }) {
  // In place of the driver, which registered itself: an arrival must also
  // schedule a run.
  channel_->set_receiver(this);
}

CircuitSession::~CircuitSession() {
  channel_->set_receiver(nullptr);
  timer_.cancel();
  gate_.close();
  // Streams still attached learn that the session is gone; from then on none
  // of them calls back into it.
  auto handlers = std::move(handlers_);
  handlers_.clear();
  for (const auto& [id, handler] : handlers) {
    handler->on_stream_event(stream::Event{.type = stream::EventType::kClosed, .stream = id});
  }
}

void CircuitSession::on_datagram(Bytes datagram) {
  driver_.on_datagram(datagram);
  wake();
}

Result<stream::StreamId> CircuitSession::open_stream() {
  auto id = session_.open_stream();
  if (id) {
    wake();
  }
  return id;
}

void CircuitSession::attach(stream::StreamId id, StreamHandler& handler) {
  handlers_[id] = &handler;
}

void CircuitSession::detach(stream::StreamId id) noexcept { handlers_.erase(id); }

void CircuitSession::wake() { run_soon_.schedule(); }

void CircuitSession::channel_closed() {
  session_.close(0, "circuit closed");
  wake();
}

void CircuitSession::close() {
  session_.close(0, "closed");
  wake();
}

void CircuitSession::run() {
  if (channel_unusable(driver_.run_timers())) {
    session_.close(0, "circuit closed");
  }
  // Handlers write and read in reaction to events; a second flush sends what
  // they queued without waiting for another turn.
  if (!dispatch()) {
    return;
  }
  if (!session_.is_closed() && channel_unusable(driver_.flush())) {
    session_.close(0, "circuit closed");
  }
  if (dispatch()) {
    arm_timer();
  }
}

bool CircuitSession::dispatch() {
  const auto in_flight = gate_.enter();
  while (auto event = session_.poll_event()) {
    switch (event->type) {
      case stream::EventType::kIncoming:
        if (incoming_) {
          incoming_(event->stream);
        } else {
          (void)session_.reset(event->stream, 0);
        }
        break;
      case stream::EventType::kStreamsAvailable:
        break;
      case stream::EventType::kClosed: {
        if (closed_reported_) {
          break;
        }
        closed_reported_ = true;
        std::vector<stream::StreamId> ids;
        ids.reserve(handlers_.size());
        for (const auto& [id, handler] : handlers_) {
          ids.push_back(id);
        }
        for (const auto id : ids) {
          // A handler may detach others (or itself) while it runs.
          if (auto it = handlers_.find(id); it != handlers_.end()) {
            StreamHandler* handler = it->second;
            handlers_.erase(it);
            handler->on_stream_event(*event);
          }
        }
        if (closed_) {
          // The owner may destroy this session from its closed handler.
          auto closed = std::move(closed_);
          closed();
          if (!in_flight || in_flight->gate_closed()) {
            return false;
          }
        }
        break;
      }
      default: {
        auto it = handlers_.find(event->stream);
        if (it == handlers_.end()) {
          break;
        }
        it->second->on_stream_event(*event);
        break;
      }
    }
  }
  return true;
}

void CircuitSession::arm_timer() {
  auto deadline = session_.next_deadline();
  if (!deadline) {
    timer_.cancel();
    return;
  }
  // A pushed-back session's deadline is its retry of the refused datagram
  // (Session::on_transmit_blocked).
  // A deadline already passed fires at once, as an expiry of zero would.
  timer_.expires_at(*deadline);
  timer_.async_wait([this, in_flight = gate_.enter()](const asio::error_code& ec) {
    if (!ec && in_flight && !in_flight->gate_closed()) {
      run();
    }
  });
}

}  // namespace nyx::daemon
