#include "daemon/socks_bridge.hpp"

#include <optional>
#include <utility>
#include <vector>

#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "daemon/stream_open.hpp"

namespace nyx::daemon {
namespace {

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

// Waits on a stream for the exit's status byte; the bridge awaits `signal_`,
// which expires when the answer (or the stream's end) is known.
// It also sends the stream open request, in pieces if a busy circuit's
// flow-control window has less room than the request.
struct StatusWaiter final : StreamHandler {
  StatusWaiter(asio::io_context& io, CircuitSession& session, stream::StreamId id,
               std::vector<std::uint8_t> request)
      : signal_(io), session_(session), id_(id), request_(std::move(request)) {
    signal_.expires_at(asio::steady_timer::time_point::max());
  }

  void send_request() {
    while (sent_ < request_.size()) {
      auto written =
          session_.session().write(id_, Bytes(request_.data() + sent_, request_.size() - sent_));
      if (!written) {
        done(StreamOpenStatus::kGeneralFailure);
        return;
      }
      if (*written == 0) {
        break;  // kWritable brings us back
      }
      sent_ += *written;
    }
    session_.wake();
  }

  void on_stream_event(const stream::Event& event) override {
    switch (event.type) {
      case stream::EventType::kWritable:
        send_request();
        break;
      case stream::EventType::kReadable: {
        // Exactly one byte: what follows is the destination's data.
        std::uint8_t byte = 0;
        auto read = session_.session().read(id_, MutableBytes(&byte, 1));
        session_.wake();
        if (read && read->bytes == 1) {
          auto parsed = parse_stream_open_status(byte);
          done(parsed ? *parsed : StreamOpenStatus::kGeneralFailure);
        } else if (!read || read->fin) {
          done(StreamOpenStatus::kGeneralFailure);
        }
        break;
      }
      case stream::EventType::kStreamReset:
      case stream::EventType::kStopSending:
      case stream::EventType::kStreamClosed:
      case stream::EventType::kClosed:
        closed_ = event.type == stream::EventType::kClosed;
        done(StreamOpenStatus::kGeneralFailure);
        break;
      default:
        break;
    }
  }

  void done(StreamOpenStatus s) {
    if (!status_) {
      status_ = s;
      signal_.cancel();
    }
  }

  asio::steady_timer signal_;
  CircuitSession& session_;
  stream::StreamId id_;
  std::vector<std::uint8_t> request_;
  std::size_t sent_ = 0;
  std::optional<StreamOpenStatus> status_;
  bool closed_ = false;  // the whole session ended
};

// An opened stream: relay() runs the pipe until both directions are done.
class BridgeStream final : public Socks5Stream {
 public:
  BridgeStream(asio::io_context& io, CircuitSource& source, CircuitSession& session,
               stream::StreamId id)
      : io_(io), source_(source), session_(&session), alive_(session.alive()), id_(id) {}

  ~BridgeStream() override {
    if (!relayed_) {
      if (!alive_.expired()) {
        (void)session_->session().reset(id_, 0);
        session_->wake();
      }
      release();
    }
  }

  asio::awaitable<void> relay(asio::ip::tcp::socket client,
                              std::vector<std::uint8_t> early_data) override {
    relayed_ = true;
    if (alive_.expired()) {
      co_return;
    }
    if (!early_data.empty()) {
      auto written = session_->session().write(id_, early_data);
      if (!written || *written != early_data.size()) {
        (void)session_->session().reset(id_, 0);
        session_->wake();
        release();
        co_return;
      }
    }
    auto finished = std::make_shared<asio::steady_timer>(io_);
    finished->expires_at(asio::steady_timer::time_point::max());
    StreamPipe::start(*session_, id_, std::move(client), {},
                      [finished](bool) { finished->cancel(); });
    (void)co_await finished->async_wait(kAsTuple);
    release();
  }

 private:
  // A session that is gone took its circuit's count with it: a stale
  // release could land on a new session at the same address.
  void release() {
    if (!alive_.expired()) {
      source_.release(session_);
    }
  }

  asio::io_context& io_;
  CircuitSource& source_;
  CircuitSession* session_;
  std::weak_ptr<CircuitSession*> alive_;
  stream::StreamId id_;
  bool relayed_ = false;
};

}  // namespace

SocksBridge::SocksBridge(asio::io_context& io, CircuitSource& source,
                         std::chrono::milliseconds open_timeout)
    : io_(io), source_(source), open_timeout_(open_timeout) {}

asio::awaitable<Result<std::unique_ptr<Socks5Stream>>> SocksBridge::connect(
    const IsolationKey& isolation, const Socks5Destination& destination) {
  auto request = encode_stream_open(destination);
  if (!request) {
    co_return std::unexpected(request.error());
  }
  // A circuit that dies under the open (a relay gone: its session gives up
  // after a few probe timeouts) costs one more try, on another circuit.
  auto opened = co_await open_stream(isolation, destination, *request);
  if (!opened && opened.error().category == ErrorCategory::kClosed) {
    opened = co_await open_stream(isolation, destination, *request);
  }
  co_return opened;
}

asio::awaitable<Result<std::unique_ptr<Socks5Stream>>> SocksBridge::open_stream(
    const IsolationKey& isolation, const Socks5Destination& destination,
    std::vector<std::uint8_t> request) {
  auto acquired = co_await source_.acquire(isolation, destination);
  if (!acquired) {
    co_return std::unexpected(acquired.error());
  }
  CircuitSession& session = **acquired;
  const auto alive = session.alive();
  auto id = session.open_stream();
  if (!id) {
    source_.release(&session);
    co_return std::unexpected(id.error());
  }
  auto waiter = std::make_unique<StatusWaiter>(io_, session, *id, std::move(request));
  session.attach(*id, *waiter);
  waiter->send_request();
  asio::steady_timer timeout(io_);
  timeout.expires_after(open_timeout_);
  timeout.async_wait([&waiter](std::error_code ec) {
    if (!ec) {
      waiter->done(StreamOpenStatus::kTimeout);
    }
  });
  if (!waiter->status_) {  // the request may have failed to go out at once
    (void)co_await waiter->signal_.async_wait(kAsTuple);
  }
  timeout.cancel();
  if (alive.expired() || waiter->closed_) {
    if (!alive.expired()) {
      source_.release(&session);
    }
    co_return make_error(ErrorCategory::kClosed, "the circuit closed while opening the stream");
  }
  session.detach(*id);
  // No status: the SOCKS server gave up on this open (its own deadline).
  const StreamOpenStatus status = waiter->status_.value_or(StreamOpenStatus::kTimeout);
  if (status != StreamOpenStatus::kSuccess) {
    (void)session.session().reset(*id, 0);
    session.wake();
    source_.release(&session);
    co_return std::unexpected(stream_open_error(status));
  }
  co_return std::make_unique<BridgeStream>(io_, source_, session, *id);
}

}  // namespace nyx::daemon
