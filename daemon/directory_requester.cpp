#include "daemon/directory_requester.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <asio/cancellation_state.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "async/async_event.hpp"
#include "async/with_deadline.hpp"
#include "daemon/circuit_session.hpp"
#include "daemon/circuit_stream.hpp"
#include "daemon/directory_server.hpp"
#include "daemon/loopback_channel.hpp"
#include "daemon/node_address_ip.hpp"
#include "document/directory_stream.hpp"
#include "mix/circuit.hpp"
#include "mix/relay.hpp"
#include "mix/relay_cell.hpp"
#include "transport/link_manager.hpp"

namespace nyx::daemon {
namespace {

// The most one read takes; the decoder bounds what the whole reply may hold.
constexpr std::size_t kReplyReadChunk = 16 * 1024;

transport::PeerEndpoints endpoints_of(const document::DirectorySource& source) {
  transport::PeerEndpoints endpoints;
  if (auto ip = ip_of(source.udp_address)) {
    endpoints.udp = asio::ip::udp::endpoint(*ip, source.udp_address.port);
  }
  if (auto ip = ip_of(source.tcp_address)) {
    endpoints.tcp = asio::ip::tcp::endpoint(*ip, source.tcp_address.port);
  }
  return endpoints;
}

// Clears a circuit's state handler however the frame that set it ends
// (cancelled by the deadline included), so the circuit never calls into it.
class StateHandlerGuard {
 public:
  explicit StateHandlerGuard(mix::Circuit& circuit) : circuit_(&circuit) {}
  ~StateHandlerGuard() {
    if (circuit_ != nullptr) {
      circuit_->set_state_handler(nullptr);
    }
  }
  StateHandlerGuard(const StateHandlerGuard&) = delete;
  StateHandlerGuard& operator=(const StateHandlerGuard&) = delete;
  void release() noexcept { circuit_ = nullptr; }

 private:
  mix::Circuit* circuit_;
};

// Clears the channel's closed handler before the session it points to goes.
class ClosedHandlerGuard {
 public:
  explicit ClosedHandlerGuard(std::function<void(std::function<void()>)>& set) : set_(set) {}
  ~ClosedHandlerGuard() {
    if (set_) {
      set_({});
    }
  }
  ClosedHandlerGuard(const ClosedHandlerGuard&) = delete;
  ClosedHandlerGuard& operator=(const ClosedHandlerGuard&) = delete;

 private:
  std::function<void(std::function<void()>)>& set_;
};

}  // namespace

// --- RelayDirectoryCircuits -------------------------------------------------------

void RelayDirectoryCircuits::answer_locally(const crypto::X25519PublicKey& own_link_key,
                                            DirectoryServer& server) {
  own_link_key_ = own_link_key;
  local_server_ = &server;
}

DirectoryCircuit RelayDirectoryCircuits::open_local(asio::any_io_executor executor) {
  auto [client_end, server_end] = LoopbackChannel::pair(std::move(executor), mix::kMaxRelayData);
  LoopbackChannel* served = server_end.get();
  CircuitSession& session =
      local_server_->accept(std::move(server_end), {.link_peer = own_link_key_});
  // The server end lives in the session: its handler goes with it.
  served->set_peer_closed_handler([&session] { session.channel_closed(); });
  LoopbackChannel* raw = client_end.get();
  DirectoryCircuit opened;
  opened.channel = std::move(client_end);
  opened.set_closed_handler = [raw](std::function<void()> closed) {
    raw->set_peer_closed_handler(std::move(closed));
  };
  return opened;
}

asio::awaitable<Result<DirectoryCircuit>> RelayDirectoryCircuits::open(
    const document::DirectorySource& source) {
  if (local_server_ != nullptr && source.link_key == own_link_key_) {
    const auto executor = co_await asio::this_coro::executor;
    co_return open_local(executor);
  }
  const transport::PeerEndpoints endpoints = endpoints_of(source);
  if (!endpoints.udp && !endpoints.tcp) {
    co_return make_error(ErrorCategory::kNotFound, "directory source has no address");
  }
  links_.add_peer(source.link_key, endpoints);
  auto started = relay_.create_directory_circuit(source.link_key);
  if (!started) {
    co_return std::unexpected(std::move(started.error()));
  }
  std::unique_ptr<mix::Circuit> circuit = std::move(*started);
  if (circuit->state() == mix::Circuit::State::kBuilding) {
    async::AsyncEvent settled(co_await asio::this_coro::executor);
    StateHandlerGuard guard(*circuit);
    circuit->set_state_handler([&settled](mix::Circuit::State) { settled.set(); });
    if (co_await settled.wait()) {
      // Cancelled (the request's deadline): the guard clears the handler
      // and the circuit is destroyed with this frame.
      co_return make_error(ErrorCategory::kTimeout, "directory circuit not open in time");
    }
  }
  if (circuit->state() != mix::Circuit::State::kOpen) {
    co_return make_error(ErrorCategory::kClosed,
                         "directory circuit closed before it opened (reason " +
                             std::to_string(static_cast<int>(circuit->close_reason())) + ")");
  }
  mix::Circuit* raw = circuit.get();
  DirectoryCircuit opened;
  opened.channel = std::move(circuit);
  opened.set_closed_handler = [raw](std::function<void()> closed) {
    if (!closed) {
      raw->set_state_handler(nullptr);
      return;
    }
    raw->set_state_handler([closed = std::move(closed)](mix::Circuit::State state) {
      if (state == mix::Circuit::State::kClosed) {
        closed();
      }
    });
  };
  co_return opened;
}

// --- DirectoryRequester -----------------------------------------------------------

DirectoryRequester::DirectoryRequester(asio::any_io_executor executor, const Clock& clock,
                                       async::TimerService& timers,
                                       DirectoryCircuitSource& circuits,
                                       DirectoryRequesterOptions options)
    : executor_(std::move(executor)),
      clock_(clock),
      timers_(timers),
      circuits_(circuits),
      options_(std::move(options)) {
  // Section 4.2: a stream beyond the server's limit would be a session error.
  options_.session.max_concurrent_streams = document::kMaxDirectoryStreamsPerSession;
}

asio::awaitable<Result<document::DirectoryReply>> DirectoryRequester::request(
    const document::DirectorySource& source, const document::DirectoryRequest& request) {
  auto encoded = document::encode_directory_request(request);
  if (!encoded) {
    co_return std::unexpected(std::move(encoded.error()));
  }
  auto outcome = co_await async::with_deadline(
      run(source, std::move(*encoded), document::request_type(request)), options_.timeout, timers_);
  if (!outcome) {
    co_return make_error(
        ErrorCategory::kTimeout,
        "directory request: no complete reply in " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::seconds>(options_.timeout).count()) +
            " s");
  }
  co_return std::move(*outcome);
}

asio::awaitable<Result<document::DirectoryReply>> DirectoryRequester::run(
    const document::DirectorySource& source, std::vector<std::uint8_t> encoded,
    document::DirectoryRequestType type) {
  auto opened = co_await circuits_.open(source);
  if (!opened) {
    co_return std::unexpected(std::move(opened.error()));
  }
  // Destroyed in reverse order: the stream (reset unless done), then the
  // closed handler is cleared, then the session and the circuit in it.
  CircuitSession session(executor_, clock_, timers_, std::move(opened->channel),
                         stream::Role::kInitiator, options_.session);
  ClosedHandlerGuard closed_guard(opened->set_closed_handler);
  if (opened->set_closed_handler) {
    opened->set_closed_handler([&session] { session.channel_closed(); });
  }
  auto id = session.open_stream();
  if (!id) {
    co_return std::unexpected(std::move(id.error()));
  }
  Result<document::DirectoryReply> reply = co_await exchange(session, *id, encoded, type);
  // Section 4.2: the client closes the circuit when it has what it came for.
  // The session's CLOSE goes out on its next run: let that run before the
  // session and its channel go (a channel that is not a circuit tells the
  // server nothing when its end is destroyed), unless the request is being
  // cancelled, when no further wait may start.
  session.close();
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  if (cancellation.cancelled() == asio::cancellation_type::none) {
    co_await asio::post(executor_, asio::use_awaitable);
  }
  co_return reply;
}

asio::awaitable<Result<document::DirectoryReply>> DirectoryRequester::exchange(
    CircuitSession& session, stream::StreamId id, const std::vector<std::uint8_t>& encoded,
    document::DirectoryRequestType type) {
  CircuitStream stream(session, id);
  session.wake();
  if (auto written = co_await stream.write_all(encoded); !written) {
    co_return std::unexpected(std::move(written.error()));
  }
  if (auto finished = stream.finish(); !finished) {
    co_return std::unexpected(std::move(finished.error()));
  }
  session.wake();
  std::vector<std::uint8_t> received;
  std::array<std::uint8_t, kReplyReadChunk> chunk{};
  bool complete = false;
  // Decoded again only once the bytes it asked for are in, so a large
  // consensus costs one decode per length field, not one per chunk.
  std::size_t wanted = document::kDirectoryHeaderSize;
  while (true) {
    auto read = co_await stream.read_some(chunk);
    if (!read) {
      co_return std::unexpected(std::move(read.error()));
    }
    if (read->bytes > 0 && complete) {
      // A reply is whole before the server's FIN; more is malformed.
      co_return make_error(ErrorCategory::kParse, "directory reply: bytes after the reply",
                           static_cast<int>(document::DirectoryStreamErrc::kTrailingBytes));
    }
    received.insert(received.end(), chunk.begin(), chunk.begin() + read->bytes);
    session.wake();  // the read opened flow-control credit
    if (read->fin) {
      co_return document::decode_directory_reply_at_fin(type, received);
    }
    if (complete || received.size() < wanted) {
      continue;
    }
    // A bad length is refused as soon as it is in, before its body.
    auto progress = document::decode_directory_reply(type, received);
    if (!progress) {
      co_return std::unexpected(std::move(progress.error()));
    }
    if (const auto* more = std::get_if<document::NeedMore>(&*progress)) {
      wanted = received.size() + std::max<std::size_t>(more->bytes, 1);
      continue;
    }
    if (const auto* done = std::get_if<document::Decoded<document::DirectoryReply>>(&*progress)) {
      if (done->consumed != received.size()) {
        co_return make_error(ErrorCategory::kParse, "directory reply: bytes after the reply",
                             static_cast<int>(document::DirectoryStreamErrc::kTrailingBytes));
      }
      complete = true;
    }
  }
}

}  // namespace nyx::daemon
