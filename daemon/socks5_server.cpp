#include "daemon/socks5_server.hpp"

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include "async/accept_loop.hpp"
#include "async/gate.hpp"
#include "async/timer_service.hpp"
#include "async/use_result.hpp"
#include "async/with_deadline.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/tcp_listener.hpp"

namespace nyx::daemon {
namespace {

using asio::ip::tcp;
using async::use_result;

// How long to pause after a failed accept (out of descriptors or similar).
constexpr std::chrono::milliseconds kAcceptBackoff{50};

// Reads until `parse` has a whole message (or fails) and removes the bytes
// it used from `buffer`; what follows stays for the next message.
template <class T, class Parse>
asio::awaitable<Result<T>> read_message(tcp::socket& socket, std::vector<std::uint8_t>& buffer,
                                        Parse parse) {
  std::array<std::uint8_t, 512> chunk{};
  while (true) {
    ParseResult<T> parsed = parse(Bytes(buffer));
    if (!parsed) {
      co_return std::unexpected(std::move(parsed.error()));
    }
    if (parsed->has_value()) {
      buffer.erase(buffer.begin(),
                   buffer.begin() + static_cast<std::ptrdiff_t>((*parsed)->consumed));
      co_return std::move((*parsed)->value);
    }
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), use_result);
    if (ec) {
      co_return make_error(ErrorCategory::kClosed,
                           fmt::format("socks5: client went away: {}", ec.message()), ec.value());
    }
    buffer.insert(buffer.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  }
}

template <std::size_t N>
asio::awaitable<bool> write_bytes(tcp::socket& socket, const std::array<std::uint8_t, N>& bytes) {
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes), use_result);
  co_return !ec;
}

// The `reply` label of each REP code (Socks5Reply's values are 0 to 8).
constexpr std::array<const char*, 9> kReplyNames = {
    "succeeded",           "general_failure",       "not_allowed",
    "network_unreachable", "host_unreachable",      "connection_refused",
    "ttl_expired",         "command_not_supported", "address_type_not_supported"};

// The answer handler under optimistic_reply: the client has its success
// reply already, so a failure can only close it, abortively, so that it does
// not take the missing bytes for a clean end. The SOCKS code is lost (Tor
// proposal 309 makes the same trade).
asio::awaitable<bool> close_on_failure(tcp::socket& client, Socks5Reply answer) {
  if (answer == Socks5Reply::kSucceeded) {
    co_return true;
  }
  log::debug("socks: stream failed after an optimistic reply ({})", static_cast<int>(answer));
  std::error_code ignored;
  client.set_option(asio::socket_base::linger(true, 0), ignored);
  client.close(ignored);
  co_return false;
}

}  // namespace

struct Socks5Server::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, Socks5ServerOptions opts, Socks5Connector& c)
      : io(io_context),
        options(opts),
        connector(c),
        acceptor(io_context),
        relays(io_context.get_executor()) {}

  asio::awaitable<void> accept_loop();
  // Serves an accepted client, or closes it when max_clients are connected.
  void admit(tcp::socket socket);
  asio::awaitable<void> serve(tcp::socket socket, std::uint64_t id);
  struct Handshake {
    IsolationKey isolation;
    Socks5Destination destination;
  };
  // Greeting, method, credentials and request; nullopt when the client is
  // gone or was refused (its reply already sent).
  asio::awaitable<std::optional<Handshake>> handshake(tcp::socket& socket,
                                                      std::vector<std::uint8_t>& buffer);
  // Asks the connector and replies; the stream when the client got success,
  // or an unanswered stream whose answer becomes the reply (answer_handler).
  asio::awaitable<std::unique_ptr<Socks5Stream>> open_stream(tcp::socket& socket,
                                                             const Handshake& request);
  // How an unanswered stream's answer reaches the client.
  Socks5AnswerHandler answer_handler();
  // The reply for the answer; a failure's reply is followed by a close.
  asio::awaitable<bool> reply_to_answer(tcp::socket& client, Socks5Reply answer);
  void stop();
  // Sends a request's reply, counting it by code.
  asio::awaitable<bool> send_reply(tcp::socket& socket, Socks5Reply reply) {
    if (const auto code = static_cast<std::size_t>(reply); code < replies.size() && replies[code]) {
      replies[code]->inc();
    }
    co_return co_await write_bytes(socket, encode_socks5_reply(reply));
  }

  asio::io_context& io;
  Socks5ServerOptions options;
  Socks5Connector& connector;
  tcp::acceptor acceptor;
  std::array<metrics::Counter*, kReplyNames.size()> replies{};  // set by publish_metrics()
  // Clients not yet relaying, so stop() can close them.
  std::map<std::uint64_t, tcp::socket*> pending;
  // Held by each client while its stream relays: what the drain waits for.
  async::Gate relays;
  std::size_t clients = 0;
  std::uint64_t next_client = 0;
  bool stopped = false;
};

asio::awaitable<void> Socks5Server::Impl::accept_loop() {
  auto self = shared_from_this();
  co_await async::accept_loop(
      acceptor, async::SteadyTimers::instance(), kAcceptBackoff, [this] { return stopped; },
      [this](tcp::socket socket) { admit(std::move(socket)); });
}

void Socks5Server::Impl::admit(tcp::socket socket) {
  if (clients >= options.max_clients) {
    std::error_code ignored;
    socket.close(ignored);
    return;
  }
  ++clients;
  asio::co_spawn(io, serve(std::move(socket), next_client++), rethrow_escaped);
}

asio::awaitable<std::optional<Socks5Server::Impl::Handshake>> Socks5Server::Impl::handshake(
    tcp::socket& socket, std::vector<std::uint8_t>& buffer) {
  auto greeting = co_await read_message<Socks5Greeting>(socket, buffer, parse_socks5_greeting);
  if (!greeting) {
    co_return std::nullopt;  // not SOCKS5: RFC 1928 has no reply for it
  }
  const Socks5Method method = select_socks5_method(*greeting);
  if (!co_await write_bytes(socket, encode_socks5_method_selection(method)) ||
      method == Socks5Method::kNoAcceptable) {
    co_return std::nullopt;
  }
  Handshake done;
  if (method == Socks5Method::kUserPass) {
    auto credentials = co_await read_message<IsolationKey>(socket, buffer, parse_socks5_user_pass);
    if (!credentials) {
      if (credentials.error().category == ErrorCategory::kParse) {
        co_await write_bytes(socket, encode_socks5_user_pass_reply(false));
      }
      co_return std::nullopt;
    }
    done.isolation = std::move(*credentials);
    if (!co_await write_bytes(socket, encode_socks5_user_pass_reply(true))) {
      co_return std::nullopt;
    }
  }
  auto destination = co_await read_message<Socks5Destination>(socket, buffer, parse_socks5_request);
  if (!destination) {
    if (destination.error().category == ErrorCategory::kParse) {
      co_await send_reply(socket, socks5_reply_of_parse_error(destination.error()));
    }
    co_return std::nullopt;
  }
  done.destination = std::move(*destination);
  co_return done;
}

asio::awaitable<std::unique_ptr<Socks5Stream>> Socks5Server::Impl::open_stream(
    tcp::socket& socket, const Handshake& request) {
  // Past its time the connector is cancelled: its attempt is abandoned.
  auto outcome = co_await async::with_deadline(
      connector.connect(request.isolation, request.destination), options.connect_timeout);
  Socks5Reply reply = Socks5Reply::kTtlExpired;
  if (outcome) {
    auto& stream = *outcome;
    reply = stream ? Socks5Reply::kSucceeded : socks5_reply_for(stream.error());
    if (!stream) {
      // The error says what failed, never where to: destinations are not logged.
      log::debug("socks: stream open failed (reply {}): {}", static_cast<int>(reply),
                 stream.error().to_string());
    }
    // An unanswered stream's reply waits for its answer, unless the node
    // replies optimistically.
    if (stream && !(*stream)->answered() && !options.optimistic_reply) {
      co_return std::move(*stream);
    }
    if (stream) {
      const bool sent = co_await send_reply(socket, reply);
      if (sent) {
        co_return std::move(*stream);
      }
      co_return nullptr;
    }
  }
  co_await send_reply(socket, reply);
  co_return nullptr;
}

Socks5AnswerHandler Socks5Server::Impl::answer_handler() {
  if (!options.optimistic_reply) {
    return [self = shared_from_this()](tcp::socket& client, Socks5Reply answer) {
      return self->reply_to_answer(client, answer);
    };
  }
  return Socks5AnswerHandler(&close_on_failure);
}

asio::awaitable<bool> Socks5Server::Impl::reply_to_answer(tcp::socket& client, Socks5Reply answer) {
  const bool sent = co_await send_reply(client, answer);
  if (answer == Socks5Reply::kSucceeded) {
    co_return sent;
  }
  log::debug("socks: stream open failed (reply {})", static_cast<int>(answer));
  // The reply, then our end; the client's bytes that followed its request
  // are dropped with the socket.
  std::error_code ignored;
  client.shutdown(tcp::socket::shutdown_send, ignored);
  client.close(ignored);
  co_return false;
}

asio::awaitable<void> Socks5Server::Impl::serve(tcp::socket socket, std::uint64_t id) {
  auto self = shared_from_this();
  std::error_code ec;
  // Interactive traffic (a key press, a TLS handshake) must not wait on Nagle.
  socket.set_option(tcp::no_delay(true), ec);
  pending.emplace(id, &socket);

  std::vector<std::uint8_t> buffer;
  buffer.reserve(kSocks5MaxMessage);
  // A client too slow to finish its handshake is cut off (the handshake is
  // cancelled and the socket closed without a reply).
  auto request =
      co_await async::with_deadline(handshake(socket, buffer), options.handshake_timeout);
  std::unique_ptr<Socks5Stream> stream;
  if (request && *request && socket.is_open()) {
    stream = co_await open_stream(socket, **request);
  }
  pending.erase(id);
  const auto relaying = relays.enter();  // none after stop(): the client is closed
  if (stream && socket.is_open() && relaying) {
    if (stream->answered()) {
      co_await stream->relay(std::move(socket), std::move(buffer));
    } else {
      co_await stream->relay_unanswered(std::move(socket), std::move(buffer), answer_handler());
    }
  }
  --clients;
}

void Socks5Server::Impl::stop() {
  if (stopped) {
    return;
  }
  stopped = true;
  std::error_code ignored;
  acceptor.close(ignored);
  for (auto& [id, socket] : pending) {
    socket->close(ignored);
  }
  relays.close();
}

asio::awaitable<void> Socks5Stream::relay_unanswered(tcp::socket client,
                                                     std::vector<std::uint8_t> early_data,
                                                     Socks5AnswerHandler on_answer) {
  const bool go_on = co_await on_answer(client, Socks5Reply::kSucceeded);
  if (go_on) {
    co_await relay(std::move(client), std::move(early_data));
  }
}

Socks5Server::Socks5Server(asio::io_context& io, Socks5ServerOptions options,
                           Socks5Connector& connector)
    : impl_(std::make_shared<Impl>(io, options, connector)) {}

Socks5Server::~Socks5Server() { impl_->stop(); }

Status Socks5Server::start() {
  if (impl_->acceptor.is_open() || impl_->stopped) {
    return make_error(ErrorCategory::kInvalidArgument, "socks5 server already started");
  }
  if (auto listening = listen_tcp(impl_->acceptor, impl_->options.listen, "socks5"); !listening) {
    return listening;
  }
  asio::co_spawn(impl_->io, impl_->accept_loop(), rethrow_escaped);
  return {};
}

void Socks5Server::stop() { impl_->stop(); }

asio::awaitable<void> Socks5Server::relays_ended() {
  // The gate's wait holds its own state: it survives the server.
  co_await impl_->relays.wait_closed();
}

tcp::endpoint Socks5Server::local_endpoint() const {
  std::error_code ec;
  return impl_->acceptor.local_endpoint(ec);
}

std::size_t Socks5Server::client_count() const noexcept { return impl_->clients; }

void Socks5Server::publish_metrics(metrics::Registry& registry) {
  for (std::size_t code = 0; code < kReplyNames.size(); ++code) {
    impl_->replies[code] =
        &registry.counter("nyx_socks_requests_total", "SOCKS5 requests answered, by reply code",
                          {{"reply", kReplyNames[code]}});
  }
}

}  // namespace nyx::daemon
