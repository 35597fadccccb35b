// What `nyxctl testnet up` writes before it starts a process, the way an
// operator prepares a network (docs/operators.md, section 10): each node's
// keys, an authority key beside an authority's node keys (nyxctl keygen
// --authority), and every node's config listing every authority. No
// directory file and no descriptor: the relays upload their descriptors and
// the authorities sign the consensus once the nodes run. A relay that
// `nyxctl testnet add-relay` adds later gets its keys and config the same way.
#include <string>
#include <utility>

#include <fmt/format.h>

#include "cli/node_keys.hpp"
#include "cli/testnet.hpp"
#include "cli/text_file.hpp"
#include "core/crypto/encoding.hpp"

namespace nyx::cli {
namespace {

// A relay's or the client's directory and keys (an authority needs more).
Status generate_member_keys(const Testnet& testnet, const TestnetNode& node) {
  if (auto status = make_private_dir(testnet.node_dir(node)); !status) {
    return status;
  }
  if (auto keys = generate_node_keys(testnet.data_dir(node)); !keys) {
    return std::unexpected(std::move(keys.error()));
  }
  return {};
}

}  // namespace

Status generate_testnet_files(Testnet& testnet) {
  if (auto status = make_private_dir(testnet.dir); !status) {
    return status;
  }
  testnet.authorities.clear();
  for (const auto& node : testnet.nodes) {
    if (!node.is_authority()) {
      if (auto status = generate_member_keys(testnet, node); !status) {
        return status;
      }
      continue;
    }
    if (auto status = make_private_dir(testnet.node_dir(node)); !status) {
      return status;
    }
    auto keys = generate_authority_keys(testnet.data_dir(node));
    if (!keys) {
      return std::unexpected(std::move(keys.error()));
    }
    const std::string address = fmt::format("{}:{}", node.address, node.udp_port);
    testnet.authorities.push_back({.name = node.name,
                                   .key = crypto::to_hex(keys->authority),
                                   .link = crypto::to_hex(keys->link),
                                   .address = address,
                                   // A relay listens on TCP at its UDP address too.
                                   .tcp_address = node.is_relay() ? address : std::string()});
  }
  // Every node lists every authority, so the configs come once all keys exist.
  for (const auto& node : testnet.nodes) {
    if (auto status = write_text_file(testnet.config(node), node_config_text(testnet, node));
        !status) {
      return status;
    }
  }
  return {};
}

Status generate_added_relay_files(const Testnet& testnet, const TestnetNode& node) {
  if (auto status = generate_member_keys(testnet, node); !status) {
    return status;
  }
  return write_text_file(testnet.config(node), node_config_text(testnet, node));
}

}  // namespace nyx::cli
