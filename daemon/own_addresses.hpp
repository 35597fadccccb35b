#pragma once
// own_addresses(config): the addresses of the exit itself, which its policy
// refuses as destinations (exit.reject_own_addresses; proposal 0004, section
// 8.1): the hosts of relay.advertise_udp, relay.advertise_tcp,
// transport.udp_listen and transport.tcp_listen when they are not
// unspecified, and every address of every interface (getifaddrs). Read once
// at start; the policy takes the set as data, so tests give their own.
// A free function; any thread.

#include <set>

#include "core/error.hpp"
#include "daemon/exit_address_policy.hpp"
#include "daemon/node_config.hpp"

namespace nyx::daemon {

// Unmapped addresses (::ffff:a.b.c.d as IPv4). kIo when the interfaces
// cannot be listed: an exit that cannot tell its own addresses does not start.
Result<std::set<IpAddress>> own_addresses(const NodeConfig& config);

}  // namespace nyx::daemon
