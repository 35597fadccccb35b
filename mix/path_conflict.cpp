#include "mix/path_conflict.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "document/node_address.hpp"

namespace nyx::mix {
namespace {

using document::NodeAddress;

bool is_loopback_address(const NodeAddress& address) noexcept {
  if (address.kind == NodeAddress::Kind::kIpv4) {
    return address.ip[0] == 127;
  }
  constexpr std::array<std::uint8_t, 16> kIpv6Loopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                          0, 0, 0, 0, 0, 0, 0, 1};
  return address.kind == NodeAddress::Kind::kIpv6 && address.ip == kIpv6Loopback;
}

// The node's addresses that say where it is on a network: parsed, not none,
// not loopback.
std::array<std::optional<NodeAddress>, 2> located_addresses(const document::NodeDescriptor& node) {
  std::array<std::optional<NodeAddress>, 2> out;
  const std::array<const std::string*, 2> texts = {&node.udp_address, &node.tcp_address};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto address = NodeAddress::from_text(*texts[i]);
    if (address && !address->is_none() && !is_loopback_address(*address)) {
      out[i] = *address;
    }
  }
  return out;
}

// IPv4 /16 or IPv6 /32: the prefixes Tor's path-spec keeps apart.
bool same_subnet(const NodeAddress& a, const NodeAddress& b) noexcept {
  if (a.kind != b.kind) {
    return false;
  }
  const std::size_t prefix_bytes = a.kind == NodeAddress::Kind::kIpv4 ? 2 : 4;
  return std::equal(a.ip.begin(), a.ip.begin() + prefix_bytes, b.ip.begin());
}

}  // namespace

bool share_subnet(const document::NodeDescriptor& a, const document::NodeDescriptor& b) {
  const auto of_a = located_addresses(a);
  const auto of_b = located_addresses(b);
  for (const auto& x : of_a) {
    for (const auto& y : of_b) {
      if (x && y && same_subnet(*x, *y)) {
        return true;
      }
    }
  }
  return false;
}

bool paths_conflict(const document::NodeDescriptor& a, const document::NodeDescriptor& b,
                    SubnetRule subnets) {
  if (a.identity_key == b.identity_key || (!a.family.empty() && a.family == b.family)) {
    return true;
  }
  return subnets == SubnetRule::kEnforce && share_subnet(a, b);
}

}  // namespace nyx::mix
