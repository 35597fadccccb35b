#include "daemon/own_addresses.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace nyx::daemon {
namespace {

// A configured host that is an address and not 0.0.0.0 or :: (those say
// "every interface", which getifaddrs lists one by one).
void add_configured_own_host(const std::optional<HostPort>& host_port,
                             std::set<IpAddress>& addresses) {
  if (!host_port) {
    return;
  }
  auto address = IpAddress::parse(host_port->host);
  if (!address) {
    return;
  }
  const IpAddress plain = address->unmapped();
  const auto& bytes = plain.bytes();
  if (std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t byte) { return byte == 0; })) {
    return;
  }
  addresses.insert(plain);
}

// The address of one interface entry, when it is IPv4 or IPv6.
std::optional<IpAddress> interface_address_of(const sockaddr* socket_address) {
  if (socket_address == nullptr) {
    return std::nullopt;
  }
  if (socket_address->sa_family == AF_INET) {
    sockaddr_in v4{};
    std::memcpy(&v4, socket_address, sizeof v4);
    std::array<std::uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &v4.sin_addr, bytes.size());
    return IpAddress::v4(bytes);
  }
  if (socket_address->sa_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, socket_address, sizeof v6);
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &v6.sin6_addr, bytes.size());
    return IpAddress::v6(bytes).unmapped();
  }
  return std::nullopt;
}

}  // namespace

Result<std::set<IpAddress>> own_addresses(const NodeConfig& config) {
  std::set<IpAddress> addresses;
  add_configured_own_host(config.relay.advertise_udp, addresses);
  add_configured_own_host(config.relay.advertise_tcp, addresses);
  add_configured_own_host(config.transport.udp_listen, addresses);
  add_configured_own_host(config.transport.tcp_listen, addresses);
  ifaddrs* interfaces = nullptr;
  if (getifaddrs(&interfaces) != 0) {
    const int error = errno;
    return make_error(ErrorCategory::kIo,
                      fmt::format("exit.reject_own_addresses: cannot list the interfaces' "
                                  "addresses (getifaddrs): {}",
                                  std::strerror(error)),
                      error);
  }
  for (const ifaddrs* entry = interfaces; entry != nullptr; entry = entry->ifa_next) {
    if (auto address = interface_address_of(entry->ifa_addr)) {
      addresses.insert(*address);
    }
  }
  freeifaddrs(interfaces);
  return addresses;
}

}  // namespace nyx::daemon
