#include "daemon/exit_connector.hpp"

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "async/spawn.hpp"
#include "async/use_result.hpp"
#include "async/with_deadline.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/circuit_stream.hpp"
#include "daemon/ip_address_of.hpp"
#include "daemon/stream_open.hpp"
#include "daemon/stream_pump.hpp"

namespace nyx::daemon {
namespace {

// The `result` label of each status (StreamOpenStatus's values are 0 to 6).
constexpr std::array<const char*, 7> kResultNames = {
    "succeeded",        "general_failure", "not_allowed", "network_unreachable",
    "host_unreachable", "refused",         "timeout"};

// The first of `endpoints` that accepts; the last error when none does.
asio::awaitable<std::error_code> connect_any(asio::ip::tcp::socket& socket,
                                             std::vector<asio::ip::tcp::endpoint> endpoints) {
  std::error_code last;
  for (const auto& endpoint : endpoints) {
    std::error_code ignored;
    socket.close(ignored);
    auto [ec] = co_await socket.async_connect(endpoint, async::use_result);
    if (!ec) {
      co_return ec;
    }
    last = ec;
  }
  co_return last;
}

}  // namespace

ExitConnector::ExitConnector(asio::io_context& io, const Clock& clock, async::TimerService& timers,
                             const ExitAddressPolicy& policy, ExitConnectorOptions options)
    : io_(io),
      clock_(clock),
      timers_(timers),
      policy_(policy),
      options_(std::move(options)),
      gate_(io.get_executor()) {}

ExitConnector::~ExitConnector() { stop(); }

void ExitConnector::accept(std::unique_ptr<mix::Circuit> circuit) {
  mix::Circuit* raw = circuit.get();
  CircuitSession& session = accept(std::unique_ptr<DatagramChannel>(std::move(circuit)));
  // erase() clears this before the session (and the circuit in it) goes.
  sessions_.at(&session).circuit = raw;
  raw->set_state_handler([&session](mix::Circuit::State state) {
    if (state == mix::Circuit::State::kClosed) {
      session.channel_closed();
    }
  });
}

CircuitSession& ExitConnector::accept(std::unique_ptr<DatagramChannel> channel) {
  auto session =
      std::make_unique<CircuitSession>(io_.get_executor(), clock_, timers_, std::move(channel),
                                       stream::Role::kResponder, options_.session);
  CircuitSession& ref = *session;
  ref.set_incoming_handler([this, &ref](stream::StreamId id) {
    // Attached now, so nothing about the stream is missed before the
    // coroutine first runs.
    async::spawn(io_.get_executor(), serve(std::make_unique<CircuitStream>(ref, id)),
                 "exit stream");
  });
  ref.set_closed_handler([this, &ref] { erase(ref); });
  sessions_.emplace(&ref, Accepted{.session = std::move(session)});
  ref.wake();
  return ref;
}

asio::awaitable<void> ExitConnector::serve(std::unique_ptr<CircuitStream> opened) {
  CircuitStream& stream = *opened;  // destroyed with this frame: reset if we gave up on it
  const auto in_flight = gate_.enter();
  if (!in_flight) {
    co_return;
  }
  // The open request, and whatever followed it in the same reads: the
  // client's first data (it sends it without waiting for our status), kept
  // to go to the destination first. The rest waits in the stream until the
  // pump reads it; nothing is read past the request's 260-byte maximum.
  std::vector<std::uint8_t> received;
  std::optional<Socks5Destination> destination;
  while (!destination) {
    std::array<std::uint8_t, kStreamOpenMaxRequest> chunk{};
    auto read = co_await stream.read_some(
        MutableBytes(chunk.data(), kStreamOpenMaxRequest - received.size()));
    if (!read || in_flight->gate_closed()) {
      co_return;
    }
    received.insert(received.end(), chunk.begin(), chunk.begin() + read->bytes);
    auto parsed = parse_stream_open(received);
    if (!parsed || (!parsed->has_value() && read->fin)) {
      count(StreamOpenStatus::kGeneralFailure);
      const auto byte = static_cast<std::uint8_t>(StreamOpenStatus::kGeneralFailure);
      if (co_await stream.write_all(Bytes(&byte, 1))) {
        (void)stream.finish();
      }
      co_return;
    }
    if (parsed->has_value()) {
      destination = std::move((*parsed)->value);
      received.erase(received.begin(),
                     received.begin() + static_cast<std::ptrdiff_t>((*parsed)->consumed));
    }
  }

  auto socket = co_await connect(*destination);
  if (in_flight->gate_closed()) {
    co_return;
  }
  const StreamOpenStatus status =
      socket ? StreamOpenStatus::kSuccess : stream_open_status_for(socket.error());
  if (!socket) {
    log::debug("exit: stream refused: {}", socket.error().to_string());
  }
  count(status);
  const auto byte = static_cast<std::uint8_t>(status);
  if (!co_await stream.write_all(Bytes(&byte, 1))) {
    co_return;
  }
  if (!socket) {
    // The client resets its side once it read the status; its bytes that
    // followed the request (in `received` and the stream) go nowhere.
    (void)stream.finish();
    co_return;
  }
  (void)co_await pump(stream, *socket, std::move(received));
}

asio::awaitable<Result<asio::ip::tcp::socket>> ExitConnector::connect(
    const Socks5Destination& destination) {
  if (policy_.check(destination.host, destination.port) == ExitVerdict::kReject) {
    co_return make_error(ErrorCategory::kPermission, "exit policy");
  }
  const auto in_flight = gate_.enter();
  asio::ip::tcp::resolver resolver(io_);
  auto [rec, results] = co_await resolver.async_resolve(
      destination.host, std::to_string(destination.port), async::use_result);
  if (!in_flight || in_flight->gate_closed()) {
    co_return make_error(ErrorCategory::kClosed, "the exit is stopping");
  }
  if (rec) {
    co_return make_error(ErrorCategory::kNotFound, "name did not resolve");
  }
  // Every address the name resolved to is checked again, so a name cannot
  // smuggle a private address in.
  std::vector<asio::ip::tcp::endpoint> allowed;
  for (const auto& entry : results) {
    if (policy_.allows(ip_address_of(entry.endpoint().address()), destination.port)) {
      allowed.push_back(entry.endpoint());
    }
  }
  if (allowed.empty()) {
    co_return make_error(ErrorCategory::kPermission, "exit policy");
  }
  asio::ip::tcp::socket socket(io_);
  auto connected = co_await async::with_deadline(connect_any(socket, std::move(allowed)),
                                                 options_.connect_timeout);
  if (!connected) {
    co_return make_error(ErrorCategory::kTimeout, "connect timed out");
  }
  if (*connected) {
    co_return make_error(ErrorCategory::kIo, "connect failed", connected->value());
  }
  co_return std::move(socket);
}

void ExitConnector::erase(CircuitSession& session) {
  auto node = sessions_.extract(&session);
  if (node && node.mapped().circuit != nullptr) {
    node.mapped().circuit->set_state_handler(nullptr);
  }
  // node goes out of scope here: the session, then its circuit.
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
  for (const auto& [raw, accepted] : sessions_) {
    accepted.session->for_each_stream(
        [&count](stream::StreamId, const StreamHandler&) { ++count; });
  }
  return count;
}

void ExitConnector::stop_accepting() { gate_.close(); }

asio::awaitable<void> ExitConnector::streams_ended() {
  // The gate's wait holds its own state: it survives the connector.
  co_await gate_.wait_closed();
}

void ExitConnector::stop() {
  gate_.close();
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& [raw, accepted] : sessions) {
    if (accepted.circuit != nullptr) {
      accepted.circuit->set_state_handler(nullptr);
    }
    accepted.session->set_closed_handler(nullptr);
    accepted.session->close();
  }
}

}  // namespace nyx::daemon
