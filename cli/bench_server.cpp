#include "cli/bench_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>

#include "async/spawn.hpp"
#include "async/use_result.hpp"
#include "async/with_deadline.hpp"
#include "cli/bench_protocol.hpp"
#include "cli/bench_socks.hpp"

namespace nyx::cli {
namespace {

using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using async::use_result;
constexpr std::size_t kChunk = 64 * 1024;
// Per direction of a relayed connection: as a simple proxy sizes it; enough
// to batch a 1 KiB response, and 1,000 connections cost 32 MiB.
constexpr std::size_t kRelayBuffer = 16 * 1024;
// A peer that sends nothing for this long during a SOCKS handshake is dropped.
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

// The bytes every response is cut from; content is irrelevant to the client.
const std::array<std::uint8_t, kChunk>& response_bytes() {
  static const std::array<std::uint8_t, kChunk> bytes = [] {
    std::array<std::uint8_t, kChunk> b{};
    for (std::size_t i = 0; i < b.size(); ++i) {
      b[i] = static_cast<std::uint8_t>(i * 131 + 7);
    }
    return b;
  }();
  return bytes;
}

asio::awaitable<void> serve_origin(tcp::socket socket) {
  std::array<std::uint8_t, kRequestHeaderSize> header_bytes{};
  std::vector<std::uint8_t> scratch;
  const auto& source = response_bytes();
  for (;;) {
    auto [ec, n] = co_await asio::async_read(socket, asio::buffer(header_bytes), use_result);
    if (ec) {
      co_return;
    }
    auto header = parse_request_header(header_bytes);
    if (!header) {
      co_return;  // not our protocol: drop the connection
    }
    std::uint32_t body = header->body_size;
    // Sized to the bodies seen, so a small-request connection stays small.
    if (scratch.size() < std::min<std::size_t>(body, kChunk)) {
      scratch.resize(std::min<std::size_t>(body, kChunk));
    }
    while (body > 0) {
      const std::size_t want = std::min<std::size_t>(body, scratch.size());
      auto [body_ec, got] =
          co_await asio::async_read(socket, asio::buffer(scratch.data(), want), use_result);
      if (body_ec) {
        co_return;
      }
      body -= static_cast<std::uint32_t>(got);
    }
    std::uint64_t left = header->response_size;
    while (left > 0) {
      const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(left, kChunk));
      auto [write_ec, wrote] =
          co_await asio::async_write(socket, asio::buffer(source.data(), chunk), use_result);
      if (write_ec) {
        co_return;
      }
      left -= wrote;
    }
  }
}

// Copies from one socket to the other until EOF or an error; on EOF passes
// the half-close on, on an error closes both so the other direction ends.
asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to) {
  std::vector<std::uint8_t> buffer(kRelayBuffer);
  asio::error_code ignored;
  for (;;) {
    auto [read_ec, n] = co_await from.async_read_some(asio::buffer(buffer), use_result);
    if (read_ec == asio::error::eof) {
      to.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (read_ec) {
      break;
    }
    auto [write_ec, wrote] =
        co_await asio::async_write(to, asio::buffer(buffer.data(), n), use_result);
    if (write_ec) {
      break;
    }
  }
  from.close(ignored);
  to.close(ignored);
}

// The SOCKS5 server side: greeting, CONNECT by name or address; returns the
// connected upstream socket, or nullopt after replying with the failure.
asio::awaitable<std::optional<tcp::socket>> socks_accept(tcp::socket& client) {
  std::array<std::uint8_t, 2 + 255> greeting{};
  auto [ec1, n1] = co_await asio::async_read(client, asio::buffer(greeting.data(), 2), use_result);
  if (ec1) {
    co_return std::nullopt;
  }
  auto greeting_size = socks_greeting_size(Bytes(greeting.data(), 2));
  if (!greeting_size) {
    co_return std::nullopt;
  }
  auto [ec2, n2] = co_await asio::async_read(
      client, asio::buffer(greeting.data() + 2, *greeting_size - 2), use_result);
  if (ec2) {
    co_return std::nullopt;
  }
  const bool no_auth = socks_greeting_offers_no_auth(Bytes(greeting.data(), *greeting_size));
  const std::array<std::uint8_t, 2> choice{kSocksVersion,
                                           no_auth ? kSocksNoAuth : kSocksNoAcceptableMethod};
  auto [ec3, n3] = co_await asio::async_write(client, asio::buffer(choice), use_result);
  if (ec3 || !no_auth) {
    co_return std::nullopt;
  }
  std::array<std::uint8_t, 4 + 1 + 255 + 2> request{};
  auto [ec4, n4] = co_await asio::async_read(
      client, asio::buffer(request.data(), kSocksMessagePrefix), use_result);
  if (ec4) {
    co_return std::nullopt;
  }
  const auto reply = [&client](std::uint8_t code) -> asio::awaitable<void> {
    const auto bytes = encode_socks_reply(code);
    co_await asio::async_write(client, asio::buffer(bytes), use_result);
  };
  auto size = socks_message_size(Bytes(request.data(), kSocksMessagePrefix));
  if (!size) {
    co_await reply(kSocksAddressNotSupported);
    co_return std::nullopt;
  }
  auto [ec5, n5] = co_await asio::async_read(
      client, asio::buffer(request.data() + kSocksMessagePrefix, *size - kSocksMessagePrefix),
      use_result);
  if (ec5) {
    co_return std::nullopt;
  }
  auto message = parse_socks_message(Bytes(request.data(), *size));
  if (!message) {
    co_await reply(kSocksGeneralFailure);
    co_return std::nullopt;
  }
  if (message->code != kSocksConnect) {
    co_await reply(kSocksCommandNotSupported);
    co_return std::nullopt;
  }
  auto executor = client.get_executor();
  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] =
      co_await resolver.async_resolve(message->host, std::to_string(message->port), use_result);
  if (resolve_ec) {
    co_await reply(kSocksHostUnreachable);
    co_return std::nullopt;
  }
  tcp::socket upstream(executor);
  auto [connect_ec, endpoint] = co_await asio::async_connect(upstream, endpoints, use_result);
  if (connect_ec) {
    co_await reply(connect_ec == asio::error::connection_refused ? kSocksConnectionRefused
                                                                 : kSocksHostUnreachable);
    co_return std::nullopt;
  }
  asio::error_code ignored;
  upstream.set_option(tcp::no_delay(true), ignored);
  co_await reply(kSocksSucceeded);
  co_return std::optional<tcp::socket>(std::move(upstream));
}

asio::awaitable<void> serve_proxy(tcp::socket client) {
  auto upstream = co_await async::with_deadline(socks_accept(client), kHandshakeTimeout);
  if (!upstream || !*upstream) {
    co_return;
  }
  co_await (pump(client, **upstream) && pump(**upstream, client));
}

class Server {
 public:
  Server(const BenchServerOptions& options, asio::io_context& io)
      : options_(options), acceptor_(io) {}

  Status bind() {
    asio::error_code ec;
    const auto address = asio::ip::make_address(options_.listen.host, ec);
    if (ec) {
      return make_error(ErrorCategory::kInvalidArgument,
                        fmt::format("--listen: '{}' is not an IP address", options_.listen.host));
    }
    const tcp::endpoint endpoint(address, options_.listen.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
      acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
      acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      return make_error(ErrorCategory::kIo,
                        fmt::format("cannot listen on {}:{}: {}", options_.listen.host,
                                    options_.listen.port, ec.message()),
                        ec.value());
    }
    return {};
  }

  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void stop() {
    asio::error_code ignored;
    acceptor_.close(ignored);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_result);
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
        co_return;
      }
      if (ec) {
        continue;  // a connection that died in the backlog, or no fds: keep serving
      }
      if (active_.load(std::memory_order_relaxed) >= options_.max_connections) {
        continue;  // past the bound: the socket closes as it goes out of scope
      }
      asio::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      active_.fetch_add(1, std::memory_order_relaxed);
      async::spawn(acceptor_.get_executor(), serve(std::move(socket)), "bench server connection",
                   [this](const Error&) { leave(); });
    }
  }

 private:
  // One accepted connection; it leaves active_ when it ends, or when it fails
  // (through spawn's failure handler). Not from a destructor: the frames of
  // connections still open at SIGINT are destroyed with the io_context, after
  // the server.
  asio::awaitable<void> serve(tcp::socket socket) {
    if (options_.kind == BenchServerKind::kOrigin) {
      co_await serve_origin(std::move(socket));
    } else {
      co_await serve_proxy(std::move(socket));
    }
    leave();
  }
  void leave() { active_.fetch_sub(1, std::memory_order_relaxed); }

  const BenchServerOptions& options_;
  tcp::acceptor acceptor_;
  std::atomic<std::size_t> active_{0};
};

}  // namespace

Status run_bench_server(const BenchServerOptions& options, std::FILE* out) {
  if (options.max_connections == 0 || options.threads == 0) {
    return make_error(ErrorCategory::kInvalidArgument,
                      "--max-connections and --threads must be at least 1");
  }
  asio::io_context io(static_cast<int>(options.threads));
  Server server(options, io);
  if (auto bound = server.bind(); !bound) {
    return bound;
  }
  const auto endpoint = server.local_endpoint();
  std::fprintf(out, "listening on %s:%u\n", endpoint.address().to_string().c_str(),
               static_cast<unsigned>(endpoint.port()));
  std::fflush(out);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int) {
    server.stop();
    io.stop();
  });
  Status served;
  async::spawn(io.get_executor(), server.accept_loop(), "bench server", [&](const Error& failure) {
    served = std::unexpected(failure);
    server.stop();
    io.stop();
  });
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < options.threads; ++t) {
    threads.emplace_back([&io] { io.run(); });
  }
  io.run();
  for (auto& thread : threads) {
    thread.join();
  }
  return served;
}

}  // namespace nyx::cli
