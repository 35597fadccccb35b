#pragma once
// The conflict rule of path selection (proposal 0004 §5.5, Tor's path-spec
// §2.2): two nodes that one operator or one network may well run together
// never serve in one path, and never sit side by side in a guard sample.
//
// Pure functions of descriptors; thread-safe.

#include <cstdint>

#include "document/descriptor.hpp"

namespace nyx::mix {

// Whether addresses count. A network whose hosts all share one /16 (a
// testnet of namespaces on 10.77.0.0/24) turns them off, as Tor's
// EnforceDistinctSubnets does; identity and family always count.
enum class SubnetRule : std::uint8_t { kEnforce, kIgnore };

// True when one of a's advertised addresses (UDP and TCP) and one of b's are
// both IPv4 in one /16 or both IPv6 in one /32. Loopback addresses (127/8,
// ::1) never count: they name the client's own host, so relays listed there
// are a local testnet, and a relay on a real network gains nothing by
// listing one (a client reaching it would reach itself). Addresses that do
// not parse as IP literals (a consensus never holds one) are skipped.
bool share_subnet(const document::NodeDescriptor& a, const document::NodeDescriptor& b);

// True for equal identities, equal non-empty families, or, under
// SubnetRule::kEnforce, share_subnet.
bool paths_conflict(const document::NodeDescriptor& a, const document::NodeDescriptor& b,
                    SubnetRule subnets = SubnetRule::kEnforce);

}  // namespace nyx::mix
