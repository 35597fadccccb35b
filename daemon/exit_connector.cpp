#include "daemon/exit_connector.hpp"

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/stream_open.hpp"

namespace nyx::daemon {
namespace {

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

IpAddress to_ip(const asio::ip::address& address) {
  if (address.is_v4()) {
    return IpAddress::v4(address.to_v4().to_bytes());
  }
  return IpAddress::v6(address.to_v6().to_bytes());
}

// The `result` label of each status (StreamOpenStatus's values are 0 to 6).
constexpr std::array<const char*, 7> kResultNames = {
    "succeeded",        "general_failure", "not_allowed", "network_unreachable",
    "host_unreachable", "refused",         "timeout"};

}  // namespace

// One stream being opened: reads the request, then connects. Alive while a
// handler or the connect coroutine holds it.
struct ExitConnector::Open final : StreamHandler, std::enable_shared_from_this<Open> {
  Open(ExitConnector& owner, CircuitSession& session, stream::StreamId id)
      : owner_(owner), session_(&session), alive_(session.alive()), id_(id) {}

  void on_stream_event(const stream::Event& event) override {
    switch (event.type) {
      case stream::EventType::kReadable:
        if (!started_) {
          read_request();
        }
        break;
      case stream::EventType::kWritable:
        if (status_) {
          send_status();
        }
        break;
      case stream::EventType::kStreamReset:
      case stream::EventType::kStopSending:
      case stream::EventType::kStreamClosed:
      case stream::EventType::kClosed:
        abandon();
        break;
      default:
        break;
    }
  }

  void read_request() {
    while (buffer_.size() < kStreamOpenMaxRequest) {
      std::array<std::uint8_t, kStreamOpenMaxRequest> chunk{};
      auto read = session_->session().read(
          id_, MutableBytes(chunk.data(), kStreamOpenMaxRequest - buffer_.size()));
      if (!read || read->bytes == 0) {
        break;
      }
      buffer_.insert(buffer_.end(), chunk.begin(), chunk.begin() + read->bytes);
    }
    session_->wake();
    auto parsed = parse_stream_open(buffer_);
    if (!parsed) {
      answer(StreamOpenStatus::kGeneralFailure);  // may destroy this
      return;
    }
    if (!parsed->has_value()) {
      return;
    }
    started_ = true;
    destination_ = std::move((*parsed)->value);
    buffer_.erase(buffer_.begin(),
                  buffer_.begin() + static_cast<std::ptrdiff_t>((*parsed)->consumed));
    asio::co_spawn(owner_.io_, connect(shared_from_this()), [](std::exception_ptr) {});
  }

  static asio::awaitable<void> connect(std::shared_ptr<Open> open) {
    open->self_.reset();  // this coroutine holds it from here on
    auto socket = co_await open->resolve_and_connect();
    if (open->abandoned_ || open->alive_.expired()) {
      co_return;
    }
    if (!socket) {
      log::debug("exit: stream refused: {}", socket.error().to_string());
      open->answer(stream_open_status_for(socket.error()));
      co_return;
    }
    open->answer(StreamOpenStatus::kSuccess, std::move(*socket));
  }

  asio::awaitable<Result<asio::ip::tcp::socket>> resolve_and_connect() {
    const auto verdict = owner_.policy_.check(destination_.host, destination_.port);
    if (verdict == ExitVerdict::kReject) {
      co_return make_error(ErrorCategory::kPermission, "exit policy");
    }
    asio::ip::tcp::resolver resolver(owner_.io_);
    auto [rec, results] = co_await resolver.async_resolve(
        destination_.host, std::to_string(destination_.port), kAsTuple);
    if (rec) {
      co_return make_error(ErrorCategory::kNotFound, "name did not resolve");
    }
    std::vector<asio::ip::tcp::endpoint> allowed;
    for (const auto& entry : results) {
      if (owner_.policy_.allows(to_ip(entry.endpoint().address()), destination_.port)) {
        allowed.push_back(entry.endpoint());
      }
    }
    if (allowed.empty()) {
      co_return make_error(ErrorCategory::kPermission, "exit policy");
    }
    asio::ip::tcp::socket socket(owner_.io_);
    asio::steady_timer deadline(owner_.io_);
    bool timed_out = false;
    deadline.expires_after(owner_.options_.connect_timeout);
    deadline.async_wait([&socket, &timed_out](std::error_code ec) {
      if (!ec) {
        timed_out = true;
        std::error_code ignored;
        socket.close(ignored);
      }
    });
    std::error_code last;
    for (const auto& endpoint : allowed) {
      std::error_code ignored;
      socket.close(ignored);
      auto [cec] = co_await socket.async_connect(endpoint, kAsTuple);
      if (timed_out) {
        break;
      }
      if (!cec) {
        deadline.cancel();
        co_return std::move(socket);
      }
      last = cec;
    }
    deadline.cancel();
    if (timed_out) {
      co_return make_error(ErrorCategory::kTimeout, "connect timed out");
    }
    co_return make_error(ErrorCategory::kIo, "connect failed", last.value());
  }

  // Answers with the status byte, now or, when the circuit's flow-control
  // window has no room for it yet (a busy circuit), on the next kWritable.
  void answer(StreamOpenStatus status, std::optional<asio::ip::tcp::socket> socket = {}) {
    owner_.count(status);
    status_ = status;
    socket_ = std::move(socket);
    self_ = shared_from_this();  // held while waiting for credit
    send_status();
  }

  // Sends the pending status; on success the pipe takes the stream over.
  // Ends by releasing self_, which may destroy this.
  void send_status() {
    if (abandoned_ || alive_.expired()) {
      self_.reset();
      return;
    }
    const auto byte = static_cast<std::uint8_t>(*status_);
    auto written = session_->session().write(id_, Bytes(&byte, 1));
    if (written && *written == 0) {
      return;  // kWritable brings us back
    }
    session_->detach(id_);
    if (!written) {
      (void)session_->session().reset(id_, 0);
    } else if (*status_ == StreamOpenStatus::kSuccess) {
      // Bytes that followed the request are the client's first data: they
      // go to the socket before the pipe reads on from the stream.
      StreamPipe::start(*session_, id_, std::move(*socket_), std::move(buffer_), nullptr);
    } else {
      // The client resets its side once it read the status.
      (void)session_->session().finish(id_);
    }
    session_->wake();
    self_.reset();  // may destroy this
  }

  void abandon() {
    abandoned_ = true;
    if (!alive_.expired()) {
      session_->detach(id_);
    }
    self_.reset();
  }

  ExitConnector& owner_;
  CircuitSession* session_;
  std::weak_ptr<CircuitSession*> alive_;
  stream::StreamId id_;
  std::vector<std::uint8_t> buffer_;
  Socks5Destination destination_;
  std::optional<StreamOpenStatus> status_;  // decided, maybe not yet sent
  std::optional<asio::ip::tcp::socket> socket_;
  bool started_ = false;
  bool abandoned_ = false;
  std::shared_ptr<Open> self_;  // held while waiting for the request
};

ExitConnector::ExitConnector(asio::io_context& io, const Clock& clock,
                             const ExitAddressPolicy& policy, ExitConnectorOptions options)
    : io_(io), clock_(clock), policy_(policy), options_(std::move(options)) {}

ExitConnector::~ExitConnector() { stop(); }

void ExitConnector::accept(std::unique_ptr<mix::Circuit> circuit) {
  mix::Circuit* raw = circuit.get();
  CircuitSession& session = accept(std::unique_ptr<DatagramChannel>(std::move(circuit)));
  // The circuit dies with its session, calling this on the way: the weak
  // reference has expired by then.
  raw->set_state_handler([alive = session.alive()](mix::Circuit::State state) {
    CircuitSession* live = CircuitSession::from(alive);
    if (live != nullptr && state == mix::Circuit::State::kClosed) {
      live->channel_closed();
    }
  });
}

CircuitSession& ExitConnector::accept(std::unique_ptr<DatagramChannel> channel) {
  auto session = std::make_unique<CircuitSession>(io_.get_executor(), clock_, std::move(channel),
                                                  stream::Role::kResponder, options_.session);
  CircuitSession& ref = *session;
  ref.set_incoming_handler([this, &ref](stream::StreamId id) { on_incoming(ref, id); });
  ref.set_closed_handler([this, &ref] { sessions_.erase(&ref); });
  sessions_.emplace(&ref, std::move(session));
  ref.wake();
  return ref;
}

void ExitConnector::on_incoming(CircuitSession& session, stream::StreamId id) {
  auto open = std::make_shared<Open>(*this, session, id);
  open->self_ = open;
  session.attach(id, *open);
  open->read_request();
}

void ExitConnector::publish_metrics(metrics::Registry& registry) {
  static_assert(std::tuple_size_v<decltype(connects_)> == kResultNames.size());
  for (std::size_t code = 0; code < kResultNames.size(); ++code) {
    connects_[code] =
        &registry.counter("nyx_exit_connects_total", "Exit stream open requests, by result",
                          {{"result", kResultNames[code]}});
  }
}

void ExitConnector::count(StreamOpenStatus status) {
  if (const auto code = static_cast<std::size_t>(status);
      code < connects_.size() && connects_[code] != nullptr) {
    connects_[code]->inc();
  }
}

std::size_t ExitConnector::stream_count() const {
  std::size_t count = 0;
  for (const auto& [raw, session] : sessions_) {
    session->for_each_stream([&count](stream::StreamId, const StreamHandler&) { ++count; });
  }
  return count;
}

void ExitConnector::stop() {
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& [raw, session] : sessions) {
    session->set_closed_handler(nullptr);
    session->close();
  }
}

}  // namespace nyx::daemon
