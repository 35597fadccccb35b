// What `nyxctl testnet up` writes before it starts a process: the
// authority's key, each node's keys, config and signed descriptor, and the
// directory signed from the verified descriptors, the same path an operator
// takes (keygen --sign-descriptor, directory sign).
#include <chrono>
#include <ctime>
#include <utility>

#include <fmt/format.h>

#include "cli/descriptor_file.hpp"
#include "cli/directory_tool.hpp"
#include "cli/node_keys.hpp"
#include "cli/testnet.hpp"
#include "cli/text_file.hpp"
#include "core/crypto/encoding.hpp"

namespace nyx::cli {
namespace {

constexpr auto kDirectoryValidity = std::chrono::hours(24 * 7);

// The descriptor of a relay or the exit, as its operator would complete it.
document::NodeDescriptor descriptor_of(const TestnetNode& node, const NodePublicKeys& keys) {
  document::NodeDescriptor descriptor;
  descriptor.identity_key = keys.identity;
  descriptor.link_key = keys.link;
  descriptor.onion_key = keys.onion;
  descriptor.onion_key_epoch = keys.onion_epoch;
  descriptor.udp_address = fmt::format("{}:{}", node.address, node.udp_port);
  descriptor.roles =
      node.is_exit() ? (document::kRoleRelay | document::kRoleExit) : document::kRoleRelay;
  descriptor.bandwidth_weight = 100;
  if (node.is_exit()) {
    descriptor.exit_rules = *document::AdvertisedExitRules::parse(testnet_exit_policy());
  }
  return descriptor;
}

// The operator's path (docs/operators.md): the node signs its descriptor
// (nyxctl keygen --sign-descriptor) into descriptor.bin, and the directory
// lists what reads back from that file and verifies, as nyxctl directory
// sign does.
Result<document::NodeDescriptor> signed_listing(const Testnet& testnet, const TestnetNode& node,
                                                const document::NodeDescriptor& descriptor,
                                                std::uint64_t now) {
  auto signed_descriptor = sign_descriptor(descriptor, testnet.data_dir(node), now);
  if (!signed_descriptor) {
    return make_error(
        signed_descriptor.error().category,
        fmt::format("{}: signing its descriptor: {}", node.name, signed_descriptor.error().message),
        signed_descriptor.error().code);
  }
  const auto signed_file = testnet.node_dir(node) / kSignedDescriptorName;
  if (auto status = write_signed_descriptor_file(signed_file, *signed_descriptor); !status) {
    return make_error(
        status.error().category,
        fmt::format("{}: writing its signed descriptor: {}", node.name, status.error().message),
        status.error().code);
  }
  auto verified = read_signed_descriptor_file(signed_file);
  if (!verified) {
    return make_error(verified.error().category,
                      fmt::format("{}: reading back its signed descriptor: {}", node.name,
                                  verified.error().message),
                      verified.error().code);
  }
  return verified->listing();
}

}  // namespace

Status generate_testnet_files(const Testnet& testnet) {
  if (auto status = make_private_dir(testnet.dir); !status) {
    return status;
  }
  auto authority_public = generate_authority_key(testnet.authority_key());
  if (!authority_public) {
    return std::unexpected(std::move(authority_public.error()));
  }
  auto authority = load_authority_key(testnet.authority_key());
  if (!authority) {
    return std::unexpected(std::move(authority.error()));
  }
  const std::string authority_hex = crypto::to_hex(*authority_public);
  // One clock for every descriptor and the directory, so none is published
  // after the directory's valid_after.
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  std::vector<document::NodeDescriptor> listed;
  for (const auto& node : testnet.nodes) {
    if (auto status = make_private_dir(testnet.node_dir(node)); !status) {
      return status;
    }
    auto keys = generate_node_keys(testnet.data_dir(node));
    if (!keys) {
      return std::unexpected(std::move(keys.error()));
    }
    if (auto status =
            write_text_file(testnet.config(node), node_config_text(testnet, node, authority_hex));
        !status) {
      return status;
    }
    if (node.is_client()) {
      continue;  // a client builds circuits; it relays for nobody, so it is not listed
    }
    const auto descriptor = descriptor_of(node, *keys);
    if (auto status = write_descriptor_file(testnet.node_dir(node) / "descriptor.toml", descriptor);
        !status) {
      return status;
    }
    auto listing = signed_listing(testnet, node, descriptor, now);
    if (!listing) {
      return std::unexpected(std::move(listing.error()));
    }
    listed.push_back(std::move(*listing));
  }
  auto directory = sign_directory(std::move(listed), {&*authority}, kDirectoryValidity, now);
  if (!directory) {
    return std::unexpected(std::move(directory.error()));
  }
  auto encoded = directory->encode();
  if (!encoded) {
    return std::unexpected(std::move(encoded.error()));
  }
  return write_text_file(
      testnet.directory_file(),
      std::string_view(reinterpret_cast<const char*>(encoded->data()), encoded->size()));
}

}  // namespace nyx::cli
