#include "daemon/metrics_http.hpp"

#include <list>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio.hpp>
#include <fmt/format.h>

#include "async/use_result.hpp"
#include "core/log.hpp"
#include "core/metrics/counter.hpp"
#include "daemon/ip_address_of.hpp"
#include "daemon/tcp_listener.hpp"

namespace nyx::daemon {
namespace {

using asio::ip::tcp;
using async::use_result;

std::string reply(std::string_view status, std::string_view content_type, std::string_view body) {
  return fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
      status, content_type, body.size(), body);
}

std::string plain(std::string_view status) {
  return reply(status, "text/plain; charset=utf-8", fmt::format("{}\n", status));
}

}  // namespace

struct MetricsHttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, MetricsHttpOptions opts, MetricsSource src)
      : io(io_context), options(opts), source(std::move(src)), acceptor(io_context) {}

  // The reply to one request head (request line and headers, CRLFs included)
  // from a client that `allowed` says may scrape.
  std::string respond(std::string_view head, bool allowed) const {
    if (!allowed) {
      return plain("403 Forbidden");
    }
    const auto line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1 ||
        !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
      return plain("400 Bad Request");
    }
    const std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    target = target.substr(0, target.find('?'));
    if (target != "/metrics") {
      return plain("404 Not Found");
    }
    if (method != "GET" && method != "HEAD") {
      return plain("405 Method Not Allowed");
    }
    std::string full = reply("200 OK", "text/plain; version=0.0.4; charset=utf-8", source());
    if (method == "HEAD") {
      full.resize(full.find("\r\n\r\n") + 4);
    }
    return full;
  }

  asio::awaitable<void> serve(std::list<tcp::socket>::iterator it) {
    auto self = shared_from_this();
    tcp::socket& socket = *it;
    // The request is still read, so that the 403 reaches the client rather
    // than a reset from closing on its unread bytes.
    std::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    const bool allowed = !peer_ec && options.allow.allows(ip_address_of(peer.address()));
    if (!allowed && options.refused != nullptr) {
      options.refused->inc();
    }
    asio::steady_timer idle(io);
    idle.expires_after(options.idle_timeout);
    idle.async_wait([&socket](std::error_code ec) {
      if (!ec) {
        std::error_code ignored;
        socket.close(ignored);
      }
    });
    std::string head;
    std::string answer;
    for (;;) {
      char chunk[1024];
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), use_result);
      if (ec) {
        break;
      }
      head.append(chunk, n);
      if (const auto end = head.find("\r\n\r\n"); end != std::string::npos) {
        answer = respond(std::string_view(head).substr(0, end + 2), allowed);
        break;
      }
      if (head.size() > kMaxRequestBytes) {
        answer = plain("431 Request Header Fields Too Large");
        break;
      }
    }
    if (!answer.empty() && socket.is_open()) {
      co_await asio::async_write(socket, asio::buffer(answer), use_result);
    }
    idle.cancel();
    std::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    connections.erase(it);
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(use_result);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
          break;
        }
        log::warn("metrics endpoint: accept failed: {}", ec.message());
        continue;
      }
      if (connections.size() >= options.max_connections) {
        std::error_code ignored;
        socket.close(ignored);
        continue;
      }
      connections.push_front(std::move(socket));
      asio::co_spawn(io, serve(connections.begin()), rethrow_escaped);
    }
  }

  asio::io_context& io;
  MetricsHttpOptions options;
  MetricsSource source;
  tcp::acceptor acceptor;
  std::list<tcp::socket> connections;  // stable iterators: each connection erases its own
};

MetricsHttpServer::MetricsHttpServer(asio::io_context& io, MetricsHttpOptions options,
                                     MetricsSource source)
    : impl_(std::make_shared<Impl>(io, options, std::move(source))) {}

MetricsHttpServer::~MetricsHttpServer() { stop(); }

Status MetricsHttpServer::start() {
  if (auto listening = listen_tcp(impl_->acceptor, impl_->options.listen, "metrics endpoint");
      !listening) {
    return listening;
  }
  asio::co_spawn(impl_->io, impl_->accept_loop(), rethrow_escaped);
  return {};
}

void MetricsHttpServer::stop() {
  std::error_code ignored;
  impl_->acceptor.close(ignored);
  for (auto& socket : impl_->connections) {
    socket.close(ignored);
  }
}

asio::ip::tcp::endpoint MetricsHttpServer::local_endpoint() const {
  std::error_code ec;
  return impl_->acceptor.local_endpoint(ec);
}

}  // namespace nyx::daemon
