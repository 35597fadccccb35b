#include "daemon/circuit_session.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include <asio/buffer.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

namespace nyx::daemon {
namespace {

// How soon a session the channel pushed back tries again: about the relay's
// flush cadence, so the link queue has drained some cells by then.
constexpr Nanos kPushbackRetry = std::chrono::milliseconds(1);

}  // namespace

CircuitSession* CircuitSession::from(const std::weak_ptr<CircuitSession*>& alive) noexcept {
  // The lock is dropped at once: a strong reference held across a call would
  // keep alive() from expiring if the session were destroyed inside it.
  const auto locked = alive.lock();
  return locked ? *locked : nullptr;
}

CircuitSession::CircuitSession(asio::any_io_executor executor, const Clock& clock,
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
      driver_(session_, *this, clock),
      timer_(executor_),
      alive_(std::make_shared<CircuitSession*>(this)) {
  channel_->set_receiver(this);
}

CircuitSession::~CircuitSession() {
  channel_->set_receiver(nullptr);
  timer_.cancel();
  // Streams still attached learn that the session is gone, after every
  // alive() handle has expired, so none of them calls back into it.
  alive_.reset();
  auto handlers = std::move(handlers_);
  handlers_.clear();
  for (const auto& [id, handler] : handlers) {
    handler->on_stream_event(stream::Event{.type = stream::EventType::kClosed, .stream = id});
  }
}

std::size_t CircuitSession::max_datagram_size() const noexcept {
  return channel_->max_datagram_size();
}

Status CircuitSession::send(Bytes datagram) {
  auto sent = channel_->send(datagram);
  if (!sent && sent.error().category == ErrorCategory::kResourceExhausted) {
    pushed_back_ = true;
  }
  return sent;
}

void CircuitSession::on_datagram(Bytes datagram) {
  if (driver_rx_ != nullptr) {
    driver_rx_->on_datagram(datagram);
  }
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

void CircuitSession::wake() {
  if (run_posted_) {
    return;
  }
  run_posted_ = true;
  asio::post(executor_, [weak = std::weak_ptr(alive_)] {
    if (CircuitSession* self = from(weak)) {
      self->run_posted_ = false;
      self->run();
    }
  });
}

void CircuitSession::channel_closed() {
  session_.close(0, "circuit closed");
  wake();
}

void CircuitSession::close() {
  session_.close(0, "closed");
  wake();
}

void CircuitSession::run() {
  pushed_back_ = false;
  if (!driver_.run_timers()) {
    session_.close(0, "circuit closed");
  }
  // Handlers write and read in reaction to events; a second flush sends what
  // they queued without waiting for another turn.
  if (!dispatch()) {
    return;
  }
  if (!session_.is_closed() && !driver_.flush()) {
    session_.close(0, "circuit closed");
  }
  if (dispatch()) {
    arm_timer();
  }
}

bool CircuitSession::dispatch() {
  const auto weak = std::weak_ptr(alive_);
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
          if (weak.expired()) {
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
        StreamHandler* handler = it->second;
        if (event->type == stream::EventType::kStreamClosed) {
          handlers_.erase(it);
        }
        handler->on_stream_event(*event);
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
  const Nanos now = clock_.now();
  Nanos wait = std::max(*deadline - now, Nanos{0});
  if (pushed_back_) {
    wait = std::min(wait, kPushbackRetry);
  }
  timer_.expires_after(wait);
  timer_.async_wait([weak = std::weak_ptr(alive_)](std::error_code ec) {
    if (ec) {
      return;
    }
    if (CircuitSession* self = from(weak)) {
      self->run();
    }
  });
}

}  // namespace nyx::daemon

namespace nyx::daemon {
namespace {

constexpr std::size_t kUpBuffer = 16 << 10;
constexpr std::size_t kDownBuffer = 64 << 10;

}  // namespace

void StreamPipe::start(CircuitSession& session, stream::StreamId id, asio::ip::tcp::socket socket,
                       std::vector<std::uint8_t> early, DoneHandler on_done) {
  auto pipe = std::make_shared<StreamPipe>(session, id, std::move(socket), std::move(on_done));
  pipe->self_ = pipe;
  session.attach(id, *pipe);
  std::error_code ignored;
  pipe->socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (!early.empty()) {
    pipe->down_.resize(std::max(kDownBuffer, early.size()));
    std::copy(early.begin(), early.end(), pipe->down_.begin());
    pipe->down_size_ = early.size();
    pipe->traffic_.bytes_down = early.size();
  }
  pipe->pull_down();
  pipe->read_socket();
}

StreamPipe::StreamPipe(CircuitSession& session, stream::StreamId id, asio::ip::tcp::socket socket,
                       DoneHandler on_done)
    : session_(&session),
      session_alive_(session.alive()),
      id_(id),
      socket_(std::move(socket)),
      on_done_(std::move(on_done)),
      up_(kUpBuffer) {
  traffic_.started = session.clock().now();
}

void StreamPipe::on_stream_event(const stream::Event& event) {
  // A handler may finish the pipe (fail(), maybe_done() release self_): it
  // must outlive this call.
  const auto keep = shared_from_this();
  switch (event.type) {
    case stream::EventType::kReadable:
      pull_down();
      break;
    case stream::EventType::kWritable:
      push_up();
      break;
    case stream::EventType::kStreamClosed:
      session_->detach(id_);
      session_ = nullptr;
      // Both directions done on the stream: what is left is the socket side.
      if (!down_done_ && down_size_ == 0 && !writing_socket_) {
        fail();
      }
      maybe_done();
      break;
    case stream::EventType::kClosed:
      session_ = nullptr;
      fail();
      break;
    case stream::EventType::kStreamReset:
    case stream::EventType::kStopSending:
      fail();
      break;
    default:
      break;
  }
}

void StreamPipe::refresh() noexcept {
  if (session_alive_.expired()) {
    session_ = nullptr;
  }
}

void StreamPipe::read_socket() {
  if (reading_socket_ || up_done_ || failed_ || up_sent_ < up_size_) {
    return;
  }
  reading_socket_ = true;
  socket_.async_read_some(asio::buffer(up_),
                          [self = shared_from_this()](std::error_code ec, std::size_t n) {
                            self->reading_socket_ = false;
                            self->refresh();
                            if (self->failed_ || self->session_ == nullptr) {
                              self->fail();
                              return;
                            }
                            if (ec == asio::error::eof) {
                              self->up_done_ = true;
                              (void)self->session_->session().finish(self->id_);
                              self->session_->wake();
                              self->maybe_done();
                              return;
                            }
                            if (ec) {
                              self->fail();
                              return;
                            }
                            self->up_size_ = n;
                            self->up_sent_ = 0;
                            self->push_up();
                          });
}

void StreamPipe::push_up() {
  refresh();
  if (session_ == nullptr || failed_) {
    return;
  }
  if (up_sent_ < up_size_) {
    auto written =
        session_->session().write(id_, Bytes(up_.data() + up_sent_, up_size_ - up_sent_));
    if (!written) {
      fail();
      return;
    }
    up_sent_ += *written;
    traffic_.bytes_up += *written;
    session_->wake();
  }
  if (up_sent_ == up_size_) {
    read_socket();
  }
}

void StreamPipe::pull_down() {
  refresh();
  if (writing_socket_ || failed_ || down_done_) {
    return;
  }
  // The down buffer exists only while bytes are on their way to the socket:
  // an idle stream holds none (64 KiB per stream per end otherwise).
  if (down_.empty()) {
    down_.resize(kDownBuffer);
  }
  bool fin = false;
  while (session_ != nullptr && down_size_ < down_.size()) {
    auto read = session_->session().read(
        id_, MutableBytes(down_.data() + down_size_, down_.size() - down_size_));
    if (!read) {
      // The stream was reset or released while no handler was attached
      // (between the open and the pipe): the events are gone, the error
      // says it.
      fail();
      return;
    }
    down_size_ += read->bytes;
    traffic_.bytes_down += read->bytes;
    if (read->fin) {
      fin = true;
      break;
    }
    if (read->bytes == 0) {
      break;
    }
  }
  if (session_ != nullptr) {
    session_->wake();  // the read may have opened the window
  }
  if (down_size_ == 0) {
    std::vector<std::uint8_t>().swap(down_);
    if (fin) {
      down_done_ = true;
      std::error_code ignored;
      socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      maybe_done();
    }
    return;
  }
  writing_socket_ = true;
  asio::async_write(socket_, asio::buffer(down_.data(), down_size_),
                    [self = shared_from_this(), fin](std::error_code ec, std::size_t) {
                      self->writing_socket_ = false;
                      self->refresh();
                      self->down_size_ = 0;
                      if (ec) {
                        self->fail();
                        return;
                      }
                      if (fin) {
                        self->down_done_ = true;
                        std::error_code ignored;
                        self->socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
                        self->maybe_done();
                        return;
                      }
                      self->pull_down();
                    });
}

void StreamPipe::fail() {
  refresh();
  if (!failed_) {
    failed_ = true;
    if (session_ != nullptr) {
      (void)session_->session().reset(id_, 0);
      session_->detach(id_);
      session_->wake();
      session_ = nullptr;
    }
    std::error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
  }
  maybe_done();
}

void StreamPipe::maybe_done() {
  if (finished_ || reading_socket_ || writing_socket_) {
    return;
  }
  if (!failed_ && !(up_done_ && down_done_)) {
    return;
  }
  finished_ = true;
  refresh();
  if (session_ != nullptr) {
    session_->detach(id_);
    session_ = nullptr;
  }
  std::error_code ignored;
  socket_.close(ignored);
  if (on_done_) {
    on_done_(!failed_);
  }
  self_.reset();  // may destroy this
}

}  // namespace nyx::daemon
