#include "cli/descriptor_file.hpp"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/text_file.hpp"
#include "core/config.hpp"
#include "core/crypto/encoding.hpp"
#include "core/host_port.hpp"

namespace nyx::cli {
namespace {

// A 32-byte key from 64 hex digits, or records an error at `key`.
template <std::size_t N>
std::array<std::uint8_t, N> read_key(ConfigReader& reader, std::string_view key) {
  std::array<std::uint8_t, N> out{};
  reader.require(key);
  const std::string text = reader.get_string(key, "");
  if (text.empty()) {
    return out;
  }
  auto bytes = crypto::from_hex(text);
  if (!bytes || bytes->size() != N) {
    reader.add_error(key, fmt::format("expected {} hex digits", 2 * N));
    return out;
  }
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// A node's address: empty (none), or "host:port" / "[v6]:port" with a port a
// peer can connect to.
std::string read_address(ConfigReader& reader, std::string_view key) {
  std::string text = reader.get_string(key, "");
  if (text.empty()) {
    return text;
  }
  if (auto address = parse_host_port(text); !address) {
    reader.add_error(key, fmt::format("{}, got {:?}", address.error().message, text));
  } else if (address->port == 0) {
    reader.add_error(key,
                     fmt::format("a node address needs a port from 1 to 65535, got {:?}", text));
  }
  return text;
}

std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + '"';
}

}  // namespace

Result<document::NodeDescriptor> read_descriptor_file(const std::filesystem::path& file) {
  auto opened = ConfigReader::from_file(file);
  if (!opened) {
    return std::unexpected(std::move(opened.error()));
  }
  ConfigReader& reader = *opened;
  document::NodeDescriptor descriptor;
  descriptor.identity_key = read_key<crypto::kEd25519PublicKeySize>(reader, "identity_key");
  descriptor.link_key = read_key<crypto::kX25519KeySize>(reader, "link_key");
  descriptor.onion_key = read_key<crypto::kX25519KeySize>(reader, "onion_key");
  descriptor.onion_key_epoch = reader.get_int<std::uint64_t>("onion_key_epoch", 0);
  descriptor.udp_address = read_address(reader, "udp_address");
  descriptor.tcp_address = read_address(reader, "tcp_address");
  if (descriptor.udp_address.empty() && descriptor.tcp_address.empty()) {
    reader.add_error("udp_address", "a node needs a udp_address or a tcp_address");
  }
  descriptor.roles = 0;
  for (const auto& role : reader.get_string_list("roles", {"relay"})) {
    if (role == "relay") {
      descriptor.roles |= document::kRoleRelay;
    } else if (role == "exit") {
      descriptor.roles |= document::kRoleExit;
    } else {
      reader.add_error("roles", fmt::format("unknown role '{}' (relay, exit)", role));
    }
  }
  if (descriptor.roles == 0) {
    reader.add_error("roles", "a directory entry needs the role relay, exit or both");
  }
  descriptor.bandwidth_weight = reader.get_int<std::uint32_t>(
      "bandwidth_weight", 1, 1, std::numeric_limits<std::uint32_t>::max());
  descriptor.family = reader.get_string("family", "");
  const auto rules = reader.get_string_list("exit_policy", {});
  if (auto policy = document::AdvertisedExitRules::parse(rules)) {
    descriptor.exit_rules = std::move(*policy);
  } else {
    reader.add_error("exit_policy", policy.error().message);
  }
  if (auto status = reader.finish(); !status) {
    return std::unexpected(std::move(status.error()));
  }
  // The encoder knows the field limits (addresses, family, rules of at most
  // 255 bytes); ask it now so the error names this file.
  std::vector<std::uint8_t> scratch;
  if (auto status = descriptor.encode(scratch); !status) {
    return make_error(ErrorCategory::kConfig,
                      fmt::format("{}: {}", file.string(), status.error().message));
  }
  return descriptor;
}

std::string descriptor_to_toml(const document::NodeDescriptor& descriptor) {
  std::vector<std::string> roles;
  if (descriptor.is_relay()) {
    roles.emplace_back(toml_string("relay"));
  }
  if (descriptor.is_exit()) {
    roles.emplace_back(toml_string("exit"));
  }
  std::vector<std::string> rules;
  for (const auto& rule : descriptor.exit_rules.to_text()) {
    rules.push_back(toml_string(rule));
  }
  return fmt::format(
      "# A node descriptor: this node's entry in the signed directory.\n"
      "# Sign a directory with: nyxctl directory sign --authority-key FILE --descriptors FILE...\n"
      "# node id {}\n"
      "identity_key = \"{}\"\n"
      "link_key = \"{}\"\n"
      "onion_key = \"{}\"\n"
      "onion_key_epoch = {}\n"
      "udp_address = {}\n"
      "tcp_address = {}\n"
      "roles = [{}]\n"
      "bandwidth_weight = {}\n"
      "family = {}\n"
      "exit_policy = [{}]\n",
      crypto::to_hex(descriptor.node_id()), crypto::to_hex(descriptor.identity_key),
      crypto::to_hex(descriptor.link_key), crypto::to_hex(descriptor.onion_key),
      descriptor.onion_key_epoch, toml_string(descriptor.udp_address),
      toml_string(descriptor.tcp_address), fmt::join(roles, ", "), descriptor.bandwidth_weight,
      toml_string(descriptor.family), fmt::join(rules, ", "));
}

Status write_descriptor_file(const std::filesystem::path& file,
                             const document::NodeDescriptor& descriptor) {
  return write_text_file(file, descriptor_to_toml(descriptor));
}

}  // namespace nyx::cli
