#include "daemon/control/control_server.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <asio.hpp>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "async/accept_loop.hpp"
#include "async/async_event.hpp"
#include "async/timer_service.hpp"
#include "async/use_result.hpp"
#include "daemon/control/json_rpc.hpp"

namespace nyx::control {
namespace {

using asio::local::stream_protocol;
using async::use_result;
using nlohmann::json;

// How long to pause after a failed accept (out of descriptors or similar).
constexpr std::chrono::milliseconds kAcceptBackoff{50};

// An exception escaping a connection's coroutine (only bad_alloc can) is a
// bug to surface in the thread running the io_context, not to swallow.
void rethrow(const std::exception_ptr& e) {
  if (e) {
    std::rethrow_exception(e);
  }
}

// One client. Shared by its reader, its writer and its event pusher, each a
// coroutine on the server's executor.
struct Connection {
  explicit Connection(stream_protocol::socket s)
      : socket(std::move(s)), wake(socket.get_executor()), events(socket.get_executor()) {}

  // Queues a line for the writer; a client that lets too much pile up is
  // dropped rather than buffered without bound.
  void send(std::string line, std::size_t max_queued) {
    if (closed) {
      return;
    }
    if (outbox.size() >= max_queued) {
      close();
      return;
    }
    outbox.push_back(std::move(line));
    wake.set();
  }

  void close() {
    closed = true;
    std::error_code ignored;
    socket.close(ignored);
    wake.set();
    events.cancel();
  }

  stream_protocol::socket socket;
  async::AsyncEvent wake;     // the writer sleeps on it while the outbox is empty
  asio::steady_timer events;  // paces events.subscribe notifications
  std::deque<std::string> outbox;
  bool authenticated = false;
  bool subscribed = false;
  bool close_when_flushed = false;  // after refusing auth: send the error, then close
  bool closed = false;
};

}  // namespace

struct ControlServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, ControlServerOptions opts, ControlCookie secret,
       MethodRegistry registry, EventSource source)
      : io(io_context),
        options(std::move(opts)),
        cookie(std::move(secret)),
        methods(std::move(registry)),
        events(std::move(source)),
        acceptor(io_context) {}

  Status bind();
  asio::awaitable<void> accept_loop();
  // Serves an accepted client, or closes it when max_connections are open.
  void admit(stream_protocol::socket socket);
  asio::awaitable<void> read_loop(std::shared_ptr<Connection> connection, std::uint64_t id);
  asio::awaitable<void> write_loop(std::shared_ptr<Connection> connection);
  asio::awaitable<void> event_loop(std::shared_ptr<Connection> connection,
                                   std::chrono::milliseconds interval);
  // One request, answered in order: a method that awaits another thread
  // holds this connection's next request, not the other connections.
  asio::awaitable<void> handle_line(std::shared_ptr<Connection> connection, std::string line);
  RpcResult authenticate(Connection& connection, const RpcRequest& request);
  RpcResult subscribe(const std::shared_ptr<Connection>& connection, const json& params);
  void stop();

  asio::io_context& io;
  ControlServerOptions options;
  ControlCookie cookie;
  MethodRegistry methods;
  EventSource events;
  stream_protocol::acceptor acceptor;
  std::map<std::uint64_t, std::weak_ptr<Connection>> connections;
  std::uint64_t next_connection = 0;
  bool listening = false;
  bool stopped = false;
};

Status ControlServer::Impl::bind() {
  const std::string path = options.socket_path.string();
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
    return make_error(ErrorCategory::kConfig,
                      fmt::format("control socket path '{}' is empty or too long for a Unix "
                                  "socket ({} bytes at most)",
                                  path, sizeof(sockaddr_un::sun_path) - 1));
  }
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return make_error(ErrorCategory::kConfig,
                        fmt::format("control socket path '{}' exists and is not a socket", path));
    }
    // A socket file nobody accepts on was left by a node that died: replace
    // it. One that still answers belongs to a running node: leave it alone.
    stream_protocol::socket probe(io);
    std::error_code ec;
    probe.connect(stream_protocol::endpoint(path), ec);
    if (!ec) {
      return make_error(ErrorCategory::kConfig,
                        fmt::format("another server is listening on '{}'", path));
    }
    ::unlink(path.c_str());
  }
  std::error_code ec;
  acceptor.open(stream_protocol(), ec);
  if (!ec) {
    // The socket file takes its mode from the umask at bind(): 0600 (or 0660)
    // from birth.
    const mode_t previous = ::umask(options.group_access ? 0117 : 0177);
    acceptor.bind(stream_protocol::endpoint(path), ec);
    ::umask(previous);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    std::error_code ignored;
    acceptor.close(ignored);
    return make_error(ErrorCategory::kIo,
                      fmt::format("control socket '{}': {}", path, ec.message()), ec.value());
  }
  listening = true;
  return {};
}

asio::awaitable<void> ControlServer::Impl::accept_loop() {
  auto self = shared_from_this();
  co_await async::accept_loop(
      acceptor, async::SteadyTimers::instance(), kAcceptBackoff, [this] { return stopped; },
      [this](stream_protocol::socket socket) { admit(std::move(socket)); });
}

void ControlServer::Impl::admit(stream_protocol::socket socket) {
  if (connections.size() >= options.max_connections) {
    std::error_code ignored;
    socket.close(ignored);
    return;
  }
  auto connection = std::make_shared<Connection>(std::move(socket));
  const std::uint64_t id = next_connection++;
  connections.emplace(id, connection);
  asio::co_spawn(io, write_loop(connection), rethrow);
  asio::co_spawn(io, read_loop(connection, id), rethrow);
}

asio::awaitable<void> ControlServer::Impl::read_loop(std::shared_ptr<Connection> connection,
                                                     std::uint64_t id) {
  auto self = shared_from_this();
  std::string buffer;
  while (!connection->closed && !connection->close_when_flushed) {
    // The +1 leaves room for the newline of a message of exactly the limit.
    auto [ec, length] = co_await asio::async_read_until(
        connection->socket, asio::dynamic_buffer(buffer, options.max_message_bytes + 1), '\n',
        use_result);
    if (ec == asio::error::not_found) {
      connection->send(encode_rpc_error(nullptr, {kRpcInvalidRequest, "message too long"}),
                       options.max_queued_messages);
      connection->close_when_flushed = true;
      connection->wake.set();
      break;
    }
    if (ec) {
      connection->close();
      break;
    }
    std::string_view line(buffer.data(), length - 1);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    if (!line.empty()) {
      co_await handle_line(connection, std::string(line));
    }
    buffer.erase(0, length);
  }
  connections.erase(id);
}

asio::awaitable<void> ControlServer::Impl::write_loop(std::shared_ptr<Connection> connection) {
  while (!connection->closed) {
    if (connection->outbox.empty()) {
      if (connection->close_when_flushed) {
        break;
      }
      connection->wake.reset();
      co_await connection->wake.wait();
      continue;
    }
    auto [ec, written] = co_await asio::async_write(
        connection->socket, asio::buffer(connection->outbox.front()), use_result);
    if (ec) {
      break;
    }
    connection->outbox.pop_front();
  }
  connection->close();
}

asio::awaitable<void> ControlServer::Impl::event_loop(std::shared_ptr<Connection> connection,
                                                      std::chrono::milliseconds interval) {
  auto self = shared_from_this();
  while (!connection->closed) {
    connection->events.expires_after(interval);
    auto [ec] = co_await connection->events.async_wait(use_result);
    if (ec || connection->closed) {
      break;
    }
    connection->send(encode_rpc_notification("events.update", {{"data", events()}}),
                     options.max_queued_messages);
  }
}

RpcResult ControlServer::Impl::authenticate(Connection& connection, const RpcRequest& request) {
  if (request.method != "auth") {
    return std::unexpected(RpcError{kRpcAuthRequired, "authentication required: call auth first"});
  }
  const json& params = request.params;
  const auto hex = params.is_object() ? params.find("cookie") : params.end();
  if (!params.is_object() || hex == params.end() || !hex->is_string()) {
    return std::unexpected(RpcError{kRpcInvalidParams, "auth takes {\"cookie\": \"<hex>\"}"});
  }
  if (!cookie.matches_hex(hex->get_ref<const std::string&>())) {
    return std::unexpected(RpcError{kRpcAuthFailed, "authentication failed: wrong cookie"});
  }
  connection.authenticated = true;
  return json{{"authenticated", true}};
}

RpcResult ControlServer::Impl::subscribe(const std::shared_ptr<Connection>& connection,
                                         const json& params) {
  std::int64_t interval_ms = 1000;
  if (!params.is_null()) {
    const auto value = params.is_object() ? params.find("interval_ms") : params.end();
    if (!params.is_object() || (value != params.end() && !value->is_number_integer())) {
      return std::unexpected(
          RpcError{kRpcInvalidParams, "events.subscribe takes {\"interval_ms\": integer}"});
    }
    if (value != params.end()) {
      interval_ms = value->get<std::int64_t>();
    }
  }
  if (interval_ms < options.min_event_interval.count() ||
      interval_ms > options.max_event_interval.count()) {
    return std::unexpected(RpcError{
        kRpcInvalidParams,
        fmt::format("interval_ms must be between {} and {}", options.min_event_interval.count(),
                    options.max_event_interval.count())});
  }
  if (connection->subscribed) {
    return std::unexpected(
        RpcError{kRpcAlreadySubscribed, "this connection is already subscribed"});
  }
  connection->subscribed = true;
  asio::co_spawn(io, event_loop(connection, std::chrono::milliseconds(interval_ms)), rethrow);
  return json{{"interval_ms", interval_ms}};
}

asio::awaitable<void> ControlServer::Impl::handle_line(std::shared_ptr<Connection> connection,
                                                       std::string line) {
  auto request = parse_rpc_request(line);
  RpcResult outcome;
  json id = nullptr;
  bool respond = true;
  if (!request) {
    id = std::move(request.error().id);
    outcome = std::unexpected(std::move(request.error().error));
  } else {
    id = request->id;
    respond = !request->is_notification;
    if (!connection->authenticated) {
      outcome = authenticate(*connection, *request);
    } else if (request->method == "auth") {
      outcome = json{{"authenticated", true}};
    } else if (request->method == "events.subscribe" && events) {
      outcome = subscribe(connection, request->params);
    } else {
      outcome = co_await methods.call(request->method, std::move(request->params));
    }
  }
  // Until the cookie is presented, any failure ends the connection.
  const bool refuse = !connection->authenticated;
  if (respond || refuse) {
    connection->send(
        outcome ? encode_rpc_result(id, *outcome) : encode_rpc_error(id, outcome.error()),
        options.max_queued_messages);
  }
  if (refuse) {
    connection->close_when_flushed = true;
    connection->wake.set();
  }
}

void ControlServer::Impl::stop() {
  if (stopped) {
    return;
  }
  stopped = true;
  std::error_code ignored;
  acceptor.close(ignored);
  for (auto& [id, weak] : connections) {
    if (auto connection = weak.lock()) {
      connection->close();
    }
  }
  if (listening) {
    ::unlink(options.socket_path.c_str());
    listening = false;
  }
}

ControlServer::ControlServer(asio::io_context& io, ControlServerOptions options,
                             ControlCookie cookie, MethodRegistry methods, EventSource events)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(cookie), std::move(methods),
                                   std::move(events))) {}

ControlServer::~ControlServer() { impl_->stop(); }

Status ControlServer::start() {
  if (impl_->listening || impl_->stopped) {
    return make_error(ErrorCategory::kInvalidArgument, "control server already started");
  }
  if (auto bound = impl_->bind(); !bound) {
    return bound;
  }
  asio::co_spawn(impl_->io, impl_->accept_loop(), rethrow);
  return {};
}

void ControlServer::stop() { impl_->stop(); }

std::size_t ControlServer::connection_count() const noexcept { return impl_->connections.size(); }

}  // namespace nyx::control
