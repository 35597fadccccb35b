#include "cli/descriptor_file.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <limits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/node_keys.hpp"
#include "cli/text_file.hpp"
#include "core/config.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/key_file.hpp"
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

std::unexpected<Error> config_error(std::string message) {
  return make_error(ErrorCategory::kConfig, std::move(message));
}

// The public half of the X25519 secret in `file`; the secret never leaves
// SecretBytes.
Result<crypto::X25519PublicKey> x25519_public_of(const std::filesystem::path& file) {
  auto secret = crypto::read_secret_key_file<crypto::kX25519KeySize>(file);
  if (!secret) {
    return std::unexpected(std::move(secret.error()));
  }
  crypto::X25519PublicKey out{};
  crypto::x25519_base(out, secret->span());
  return out;
}

// The onion key of `epoch`, made (0600) when the data directory has none yet:
// a descriptor may only publish a key whose secret the node holds.
Result<crypto::X25519PublicKey> read_or_make_onion_key(const std::filesystem::path& data_dir,
                                                       std::uint64_t epoch) {
  const auto file = data_dir / onion_key_name(epoch);
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(file, ec))) {
    return x25519_public_of(file);
  }
  const auto made = crypto::X25519KeyPair::generate();
  if (auto status = crypto::write_key_file(file, made.secret.span()); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return made.public_key;
}

// Refuses a descriptor whose link or onion key is not the one in the data
// directory: a relay must not publish keys it cannot use.
Status check_key_file(const std::filesystem::path& file, const crypto::X25519PublicKey& named,
                      std::string_view field) {
  auto held = x25519_public_of(file);
  if (!held) {
    return std::unexpected(std::move(held.error()));
  }
  if (*held != named) {
    return config_error(
        fmt::format("the descriptor's {} is not the key in {}", field, file.string()));
  }
  return {};
}

Result<document::NodeAddress> address_field(const std::string& text, std::string_view field) {
  auto address = document::NodeAddress::from_text(text);
  if (!address) {
    return config_error(fmt::format("{} {:?}: {}", field, text, address.error().message));
  }
  return address;
}

// The fields of `source` in the signed descriptor's form; kConfig naming the
// field that an address literal or the role rules refuse.
Result<document::SignedDescriptor> signed_fields(const document::NodeDescriptor& source) {
  document::SignedDescriptor d;
  d.identity_key = source.identity_key;
  d.epoch = source.onion_key_epoch;
  d.onion_key = source.onion_key;
  d.link_key = source.link_key;
  auto udp = address_field(source.udp_address, "udp_address");
  if (!udp) {
    return std::unexpected(std::move(udp.error()));
  }
  auto tcp = address_field(source.tcp_address, "tcp_address");
  if (!tcp) {
    return std::unexpected(std::move(tcp.error()));
  }
  d.udp_address = *udp;
  d.tcp_address = *tcp;
  d.roles = source.roles;
  d.bandwidth_weight = source.bandwidth_weight;
  d.family = source.family;
  d.exit_rules = source.exit_rules;
  return d;
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

Result<document::SignedDescriptor> sign_descriptor(const document::NodeDescriptor& source,
                                                   const std::filesystem::path& data_dir,
                                                   std::uint64_t now) {
  auto seed = crypto::read_secret_key_file<crypto::kEd25519SeedSize>(data_dir / kIdentityKeyName);
  if (!seed) {
    return std::unexpected(std::move(seed.error()));
  }
  const auto identity = crypto::Ed25519KeyPair::from_seed(seed->span());
  if (identity.public_key != source.identity_key) {
    return config_error(fmt::format(
        "the descriptor names identity {}, but {} holds {}", crypto::to_hex(source.identity_key),
        (data_dir / kIdentityKeyName).string(), crypto::to_hex(identity.public_key)));
  }
  if (auto status = check_key_file(data_dir / kLinkKeyName, source.link_key, "link_key"); !status) {
    return std::unexpected(std::move(status.error()));
  }
  const auto epoch = source.onion_key_epoch;
  if (auto status = check_key_file(data_dir / onion_key_name(epoch), source.onion_key, "onion_key");
      !status) {
    return std::unexpected(std::move(status.error()));
  }
  auto descriptor = signed_fields(source);
  if (!descriptor) {
    return descriptor;
  }
  auto next = read_or_make_onion_key(data_dir, epoch + 1);
  if (!next) {
    return std::unexpected(std::move(next.error()));
  }
  descriptor->next_onion_key = *next;
  descriptor->published = now;
  if (auto status = descriptor->sign(identity); !status) {
    return config_error(status.error().message);
  }
  return descriptor;
}

Result<document::SignedDescriptor> read_signed_descriptor_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return make_error(ErrorCategory::kIo, fmt::format("cannot read {}", file.string()));
  }
  // One byte past the bound is enough to know that a file is too long.
  std::vector<std::uint8_t> bytes;
  for (std::istreambuf_iterator<char> it(in), end;
       it != end && bytes.size() <= document::kMaxSignedDescriptor; ++it) {
    bytes.push_back(static_cast<std::uint8_t>(*it));
  }
  auto parsed = document::SignedDescriptor::parse_and_verify(bytes);
  if (!parsed) {
    return make_error(parsed.error().category,
                      fmt::format("{}: {}", file.string(), parsed.error().message),
                      parsed.error().code);
  }
  return parsed;
}

Status write_signed_descriptor_file(const std::filesystem::path& file,
                                    const document::SignedDescriptor& descriptor) {
  auto bytes = descriptor.encode();
  if (!bytes) {
    return std::unexpected(std::move(bytes.error()));
  }
  return write_text_file(
      file, std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
}

}  // namespace nyx::cli
