#pragma once
// Address scope, for an authority's checks on a relay's advertised addresses
// (proposal 0002 sections 5.1 and 5.3): whether an address is global
// unicast, and the group a relay counts in for the per-address cap (an IPv4
// /32 or an IPv6 /64), as Tor's authorities cap relays per address
// (dir-spec section 3.4.2, "Sybil").
//
// Pure functions; thread-safe.

#include <array>
#include <cstdint>

#include "document/node_address.hpp"

namespace nyx::document {

// False for none, and for the special-purpose ranges of RFC 6890 and its
// successors: private, loopback, link-local, shared (CGN), documentation,
// benchmarking, multicast and reserved addresses; for IPv6 anything outside
// 2000::/3, and 2001:db8::/32 inside it.
bool is_global_unicast(const NodeAddress& address) noexcept;

// The kind and the first 4 (IPv4) or 8 (IPv6 /64) bytes; the port and the
// rest are zero. Two addresses share a group when their groups are equal.
struct AddressGroup {
  NodeAddress::Kind kind = NodeAddress::Kind::kNone;
  std::array<std::uint8_t, 8> prefix{};

  auto operator<=>(const AddressGroup&) const = default;
};

AddressGroup address_group(const NodeAddress& address) noexcept;

}  // namespace nyx::document
