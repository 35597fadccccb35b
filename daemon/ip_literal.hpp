#pragma once
// ip_literal(): the address of a listen setting (transport.udp_listen,
// metrics.listen, ...), which must be an IP literal; a name is a kConfig
// error that names the key. A free function, safe from any thread.

#include <string_view>

#include <asio/ip/address.hpp>

#include "core/error.hpp"
#include "core/host_port.hpp"

namespace nyx::daemon {

Result<asio::ip::address> ip_literal(const HostPort& address, std::string_view key);

}  // namespace nyx::daemon
