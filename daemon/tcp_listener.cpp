#include "daemon/tcp_listener.hpp"

#include <system_error>

#include <fmt/format.h>

namespace nyx::daemon {

Status listen_tcp(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& endpoint,
                  std::string_view what) {
  std::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (!ec) {
    return {};
  }
  std::error_code ignored;
  acceptor.close(ignored);
  return make_error(ErrorCategory::kIo,
                    fmt::format("{}: cannot listen on {}:{}: {}", what,
                                endpoint.address().to_string(), endpoint.port(), ec.message()),
                    ec.value());
}

void rethrow_escaped(const std::exception_ptr& e) {
  if (e) {
    std::rethrow_exception(e);
  }
}

}  // namespace nyx::daemon
