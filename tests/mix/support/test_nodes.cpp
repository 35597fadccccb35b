#include "mix/support/test_nodes.hpp"

#include <array>

#include <fmt/format.h>

namespace nyx::mix::testing {

TestNode make_test_node(int index, bool exit, std::string family, std::uint32_t weight) {
  auto seed = [index](std::uint8_t purpose) {
    std::array<std::uint8_t, 32> s{};
    s[0] = purpose;
    s[1] = static_cast<std::uint8_t>(index);
    s[2] = static_cast<std::uint8_t>(index >> 8);
    return s;
  };
  TestNode node{crypto::Ed25519KeyPair::from_seed(seed(1)),
                crypto::X25519KeyPair::from_secret(seed(2)),
                crypto::X25519KeyPair::from_secret(seed(3)),
                {}};
  document::NodeDescriptor& d = node.descriptor;
  d.identity_key = node.identity.public_key;
  d.onion_key = node.onion.public_key;
  d.onion_key_epoch = 7;
  d.link_key = node.link.public_key;
  d.udp_address = fmt::format("127.0.0.1:{}", 40000 + index);
  d.tcp_address = fmt::format("127.0.0.1:{}", 41000 + index);
  d.roles = static_cast<std::uint8_t>(document::kRoleRelay | (exit ? document::kRoleExit : 0));
  d.bandwidth_weight = weight;
  d.family = std::move(family);
  if (exit) {
    d.exit_rules = *document::AdvertisedExitRules::parse({"reject *:25", "accept *:*"});
  }
  return node;
}

TestNode make_test_node_at(int index, std::string_view ip, bool exit, std::string family,
                           std::uint32_t weight) {
  TestNode node = make_test_node(index, exit, std::move(family), weight);
  const std::string host =
      ip.find(':') == std::string_view::npos ? std::string(ip) : fmt::format("[{}]", ip);
  node.descriptor.udp_address = fmt::format("{}:{}", host, 40000 + index);
  node.descriptor.tcp_address = fmt::format("{}:{}", host, 41000 + index);
  return node;
}

}  // namespace nyx::mix::testing
