#include "daemon/support/socks5_fixtures.hpp"

#include <array>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include "async/use_result.hpp"
#include "daemon/tcp_listener.hpp"

namespace nyx::test {
namespace {

using asio::ip::tcp;
using async::use_result;

// Copies one direction until EOF, then passes the EOF on (half-close).
asio::awaitable<void> copy(tcp::socket& from, tcp::socket& to) {
  std::array<char, 16 * 1024> chunk{};
  while (true) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(chunk), use_result);
    if (n > 0) {
      auto [wec, written] =
          co_await asio::async_write(to, asio::buffer(chunk.data(), n), use_result);
      if (wec) {
        break;
      }
    }
    if (ec) {
      break;
    }
  }
  std::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

class PipeStream final : public daemon::Socks5Stream {
 public:
  PipeStream(tcp::socket upstream, std::vector<bool>& nodelay)
      : upstream_(std::move(upstream)), nodelay_(nodelay) {}

  asio::awaitable<void> relay(tcp::socket client, std::vector<std::uint8_t> early_data) override {
    using namespace asio::experimental::awaitable_operators;
    tcp::no_delay option;
    std::error_code ec;
    client.get_option(option, ec);
    nodelay_.push_back(!ec && option.value());
    if (!early_data.empty()) {
      co_await asio::async_write(upstream_, asio::buffer(early_data), use_result);
    }
    co_await (copy(client, upstream_) && copy(upstream_, client));
  }

 private:
  tcp::socket upstream_;
  std::vector<bool>& nodelay_;
};

}  // namespace

HttpOrigin::HttpOrigin(asio::io_context& io, std::string body)
    : io_(io),
      acceptor_(io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0)),
      body_(std::move(body)) {
  asio::co_spawn(io_, accept_loop(), daemon::rethrow_escaped);
}

void HttpOrigin::stop() {
  std::error_code ignored;
  acceptor_.close(ignored);
}

std::uint16_t HttpOrigin::port() const { return acceptor_.local_endpoint().port(); }

asio::awaitable<void> HttpOrigin::accept_loop() {
  while (true) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_result);
    if (ec) {
      co_return;
    }
    asio::co_spawn(io_, serve(std::move(socket)), daemon::rethrow_escaped);
  }
}

asio::awaitable<void> HttpOrigin::serve(tcp::socket socket) {
  std::string head;
  auto [ec, n] =
      co_await asio::async_read_until(socket, asio::dynamic_buffer(head), "\r\n\r\n", use_result);
  if (ec) {
    co_return;
  }
  requests_.push_back(head.substr(0, n));
  const std::string response = fmt::format(
      "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", body_.size(), body_);
  co_await asio::async_write(socket, asio::buffer(response), use_result);
  std::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
}

PipeConnector::PipeConnector(asio::io_context& io, std::uint16_t origin_port)
    : io_(io), origin_port_(origin_port) {}

asio::awaitable<Result<std::unique_ptr<daemon::Socks5Stream>>> PipeConnector::connect(
    const daemon::IsolationKey& isolation, const daemon::Socks5Destination& destination) {
  records_.push_back({isolation, destination});
  if (auto failure = failures_.find(destination.host); failure != failures_.end()) {
    co_return std::unexpected(failure->second);
  }
  if (hanging_.contains(destination.host)) {
    asio::steady_timer forever(io_, std::chrono::hours(1));
    co_await forever.async_wait(use_result);  // ends when the server cancels us
    co_return make_error(ErrorCategory::kClosed, "cancelled");
  }
  tcp::socket upstream(io_);
  auto [ec] = co_await upstream.async_connect(
      tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), origin_port_), use_result);
  if (ec) {
    co_return make_error(ErrorCategory::kIo, ec.message(), ec.value());
  }
  co_return std::make_unique<PipeStream>(std::move(upstream), nodelay_);
}

}  // namespace nyx::test
