#include "daemon/ip_literal.hpp"

#include <fmt/format.h>

namespace nyx::daemon {

Result<asio::ip::address> ip_literal(const HostPort& address, std::string_view key) {
  std::error_code ec;
  auto ip = asio::ip::make_address(address.host, ec);
  if (ec) {
    return make_error(ErrorCategory::kConfig,
                      fmt::format("{}: '{}' is not an IP address", key, address.host));
  }
  return ip;
}

}  // namespace nyx::daemon
