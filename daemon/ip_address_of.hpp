#pragma once
// ip_address_of(address): an asio address as the exit policy's IpAddress,
// for the checks that take a peer's or a resolved destination's address.

#include <asio/ip/address.hpp>

#include "daemon/exit_address_policy.hpp"

namespace nyx::daemon {

inline IpAddress ip_address_of(const asio::ip::address& address) {
  if (address.is_v4()) {
    return IpAddress::v4(address.to_v4().to_bytes());
  }
  return IpAddress::v6(address.to_v6().to_bytes());
}

}  // namespace nyx::daemon
