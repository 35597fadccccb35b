#include "integration/support/socks_http_get.hpp"

#include <array>
#include <optional>
#include <vector>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include "core/host_port.hpp"

namespace nyx::test {
namespace {

using asio::ip::tcp;
using SocksGetResult = std::expected<std::string, std::string>;

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::uint8_t kSocks5 = 5;
constexpr std::uint8_t kNoAuthentication = 0;
constexpr std::uint8_t kConnect = 1;
constexpr std::uint8_t kAtypIpv4 = 1;
constexpr std::uint8_t kAtypDomain = 3;
constexpr std::uint8_t kAtypIpv6 = 4;

std::vector<std::uint8_t> connect_request(const std::string& host, std::uint16_t port) {
  std::vector<std::uint8_t> request{kSocks5, kConnect, 0, kAtypDomain,
                                    static_cast<std::uint8_t>(host.size())};
  request.insert(request.end(), host.begin(), host.end());
  request.push_back(static_cast<std::uint8_t>(port >> 8));
  request.push_back(static_cast<std::uint8_t>(port & 0xFF));
  return request;
}

// The bound address after a reply's 4-byte head: its size by address type
// (a domain's is read from its length byte), and the port.
asio::awaitable<bool> skip_bound_address(tcp::socket& socket, std::uint8_t atyp) {
  std::size_t size = 0;
  if (atyp == kAtypIpv4) {
    size = 4;
  } else if (atyp == kAtypIpv6) {
    size = 16;
  } else if (atyp == kAtypDomain) {
    std::array<std::uint8_t, 1> length{};
    auto [error, n] = co_await asio::async_read(socket, asio::buffer(length), kAsTuple);
    if (error) {
      co_return false;
    }
    size = length[0];
  } else {
    co_return false;
  }
  std::vector<std::uint8_t> rest(size + 2);
  auto [error, n] = co_await asio::async_read(socket, asio::buffer(rest), kAsTuple);
  co_return !error;
}

asio::awaitable<SocksGetResult> get_through(tcp::endpoint proxy, std::string host,
                                            std::uint16_t port, std::string path) {
  tcp::socket socket(co_await asio::this_coro::executor);
  auto [connect_error] = co_await socket.async_connect(proxy, kAsTuple);
  if (connect_error) {
    co_return std::unexpected("SOCKS port: " + connect_error.message());
  }
  const std::array<std::uint8_t, 3> greeting{kSocks5, 1, kNoAuthentication};
  auto [greet_error, greet_n] =
      co_await asio::async_write(socket, asio::buffer(greeting), kAsTuple);
  std::array<std::uint8_t, 2> choice{};
  auto [choice_error, choice_n] = co_await asio::async_read(socket, asio::buffer(choice), kAsTuple);
  if (greet_error || choice_error || choice[0] != kSocks5 || choice[1] != kNoAuthentication) {
    co_return std::unexpected("the SOCKS greeting failed");
  }
  const auto request = connect_request(host, port);
  auto [request_error, request_n] =
      co_await asio::async_write(socket, asio::buffer(request), kAsTuple);
  std::array<std::uint8_t, 4> head{};
  auto [head_error, head_n] = co_await asio::async_read(socket, asio::buffer(head), kAsTuple);
  if (request_error || head_error || head[0] != kSocks5) {
    co_return std::unexpected("no SOCKS reply to CONNECT");
  }
  if (head[1] != 0) {
    co_return std::unexpected("SOCKS CONNECT refused with reply code " + std::to_string(head[1]));
  }
  const bool skipped = co_await skip_bound_address(socket, head[3]);
  if (!skipped) {
    co_return std::unexpected("a malformed SOCKS reply to CONNECT");
  }
  const std::string get =
      "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  auto [get_error, get_n] = co_await asio::async_write(socket, asio::buffer(get), kAsTuple);
  if (get_error) {
    co_return std::unexpected("sending the request: " + get_error.message());
  }
  std::string reply;
  std::array<char, 16384> chunk{};
  for (;;) {
    auto [read_error, n] = co_await socket.async_read_some(asio::buffer(chunk), kAsTuple);
    reply.append(chunk.data(), n);
    if (read_error == asio::error::eof) {
      co_return reply;
    }
    if (read_error) {
      co_return std::unexpected("after " + std::to_string(reply.size()) +
                                " bytes of the reply: " + read_error.message());
    }
  }
}

}  // namespace

SocksGetResult socks_http_get(const std::string& socks, const std::string& host, std::uint16_t port,
                              const std::string& path, std::chrono::milliseconds timeout) {
  const auto proxy = parse_host_port(socks);
  std::error_code ec;
  const auto ip = proxy ? asio::ip::make_address(proxy->host, ec) : asio::ip::address{};
  if (!proxy || ec) {
    return std::unexpected("bad SOCKS endpoint: " + socks);
  }
  std::optional<SocksGetResult> result;  // outlives the io_context that sets it
  asio::io_context io;
  asio::co_spawn(io, get_through({ip, proxy->port}, host, port, path),
                 [&result](std::exception_ptr error, SocksGetResult reply) {
                   result =
                       error ? SocksGetResult(std::unexpected("the GET threw")) : std::move(reply);
                 });
  io.run_for(timeout);
  if (!result) {
    return std::unexpected("no complete reply within " + std::to_string(timeout.count()) + " ms");
  }
  return std::move(*result);
}

}  // namespace nyx::test
