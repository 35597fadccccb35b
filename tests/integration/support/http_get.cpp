#include "integration/support/http_get.hpp"

#include <asio.hpp>

#include "core/host_port.hpp"

namespace nyx::test {

std::string http_get(const std::string& endpoint, const std::string& path) {
  const auto address = parse_host_port(endpoint);
  if (!address) {
    return "bad endpoint: " + address.error().message;
  }
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  std::error_code ec;
  const auto ip = asio::ip::make_address(address->host, ec);
  if (!ec) {
    socket.connect({ip, address->port}, ec);
  }
  if (ec) {
    return "connect failed: " + ec.message();
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
  asio::write(socket, asio::buffer(request), ec);
  std::string reply;
  char chunk[4096];
  for (;;) {
    const auto n = socket.read_some(asio::buffer(chunk), ec);
    if (ec) {
      break;
    }
    reply.append(chunk, n);
  }
  return reply;
}

}  // namespace nyx::test
