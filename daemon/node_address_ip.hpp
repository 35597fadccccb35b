#pragma once
// ip_of(address): the IP of an address a signed document carries, as asio's,
// to connect to; none for an empty address.

#include <algorithm>
#include <optional>

#include <asio/ip/address.hpp>

#include "document/node_address.hpp"

namespace nyx::daemon {

inline std::optional<asio::ip::address> ip_of(const document::NodeAddress& address) {
  switch (address.kind) {
    case document::NodeAddress::Kind::kIpv4: {
      asio::ip::address_v4::bytes_type bytes{};
      std::copy_n(address.ip.begin(), bytes.size(), bytes.begin());
      return asio::ip::address(asio::ip::address_v4(bytes));
    }
    case document::NodeAddress::Kind::kIpv6: {
      asio::ip::address_v6::bytes_type bytes{};
      std::copy_n(address.ip.begin(), bytes.size(), bytes.begin());
      return asio::ip::address(asio::ip::address_v6(bytes));
    }
    case document::NodeAddress::Kind::kNone:
      break;
  }
  return std::nullopt;
}

}  // namespace nyx::daemon
