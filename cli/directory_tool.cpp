#include "cli/directory_tool.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/descriptor_file.hpp"
#include "cli/node_keys.hpp"
#include "cli/table.hpp"
#include "cli/text_file.hpp"
#include "core/crypto/encoding.hpp"

namespace nyx::cli {
namespace {

std::string short_hex(Bytes bytes) { return crypto::to_hex(bytes).substr(0, 16); }

Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return make_error(ErrorCategory::kIo, fmt::format("cannot read {}", file.string()));
  }
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
  if (in.bad()) {
    return make_error(ErrorCategory::kIo, fmt::format("cannot read {}", file.string()));
  }
  return bytes;
}

// Restates a verification failure with the details a person needs.
Error explain(const Error& error, const document::Directory& parsed,
              const document::DirectoryTrust& trust, std::uint64_t now) {
  std::string message;
  switch (static_cast<document::DirectoryErrc>(error.code)) {
    case document::DirectoryErrc::kBadSignature: {
      std::vector<std::string> bad;
      for (const auto& sig : parsed.signatures) {
        if (std::find(trust.authorities.begin(), trust.authorities.end(), sig.authority) !=
            trust.authorities.end()) {
          bad.push_back(crypto::to_hex(sig.authority));
        }
      }
      message = fmt::format(
          "bad signature: the directory was changed after signing, or the signature is not the "
          "authority's (authorities checked: {})",
          fmt::join(bad, ", "));
      break;
    }
    case document::DirectoryErrc::kUnknownKey: {
      std::vector<std::string> signers;
      for (const auto& sig : parsed.signatures) {
        signers.push_back(crypto::to_hex(sig.authority));
      }
      message = fmt::format(
          "unknown key: no signature by a given authority; signed by {}",
          signers.empty() ? std::string("nobody") : fmt::format("{}", fmt::join(signers, ", ")));
      break;
    }
    case document::DirectoryErrc::kBelowThreshold:
      message =
          fmt::format("too few signatures: {} of the given authorities must sign", trust.threshold);
      break;
    case document::DirectoryErrc::kNotYetValid:
      message = fmt::format("not yet valid: valid from {} (now {})", format_utc(parsed.valid_after),
                            format_utc(now));
      break;
    case document::DirectoryErrc::kExpired:
      message =
          fmt::format("expired at {} (now {})", format_utc(parsed.valid_until), format_utc(now));
      break;
    case document::DirectoryErrc::kMalformed:
      message = error.message;
      break;
  }
  return Error{error.category, error.code, std::move(message)};
}

// A signed descriptor file as its directory entry. Refuses what
// read_signed_descriptor_file refuses (unsigned, mis-signed, malformed) and a
// descriptor from the future.
Result<document::NodeDescriptor> read_listed_descriptor(const std::filesystem::path& file,
                                                        std::uint64_t now) {
  auto descriptor = read_signed_descriptor_file(file);
  if (!descriptor) {
    Error error = std::move(descriptor.error());
    if (file.extension() == ".toml") {
      error.message += fmt::format(
          " ({} is the unsigned source: sign it with nyxctl keygen --out DATA_DIR "
          "--sign-descriptor {} and give DATA_DIR/{})",
          file.filename().string(), file.string(), kSignedDescriptorName);
    }
    return std::unexpected(std::move(error));
  }
  constexpr std::uint64_t kNoAgeLimit = std::numeric_limits<std::uint64_t>::max();
  if (auto status = document::check_published(*descriptor, now, kNoAgeLimit, kDescriptorClockSkew);
      !status) {
    return make_error(status.error().category,
                      fmt::format("{}: {}", file.string(), status.error().message),
                      status.error().code);
  }
  return descriptor->listing();
}

}  // namespace

Result<document::Directory> sign_directory(
    std::vector<document::NodeDescriptor> nodes,
    const std::vector<const crypto::Ed25519KeyPair*>& authorities, std::chrono::seconds valid_for,
    std::uint64_t now) {
  if (nodes.empty()) {
    return make_error(ErrorCategory::kInvalidArgument, "a directory needs at least one node");
  }
  if (authorities.empty()) {
    return make_error(ErrorCategory::kInvalidArgument, "a directory needs an authority key");
  }
  if (valid_for <= std::chrono::seconds::zero()) {
    return make_error(ErrorCategory::kInvalidArgument, "the validity period must be positive");
  }
  std::set<document::NodeId> seen;
  for (const auto& node : nodes) {
    if (!seen.insert(node.node_id()).second) {
      return make_error(
          ErrorCategory::kInvalidArgument,
          fmt::format("two descriptors have the identity {}", crypto::to_hex(node.identity_key)));
    }
  }
  document::Directory directory;
  directory.valid_after = now;
  directory.valid_until = now + static_cast<std::uint64_t>(valid_for.count());
  directory.nodes = std::move(nodes);
  for (const auto* authority : authorities) {
    if (auto status = directory.sign(*authority); !status) {
      return std::unexpected(std::move(status.error()));
    }
  }
  return directory;
}

Result<document::Directory> sign_directory_files(const SignOptions& options) {
  std::vector<document::NodeDescriptor> nodes;
  for (const auto& file : options.descriptors) {
    auto descriptor = read_listed_descriptor(file, options.now);
    if (!descriptor) {
      return std::unexpected(std::move(descriptor.error()));
    }
    nodes.push_back(std::move(*descriptor));
  }
  std::vector<crypto::Ed25519KeyPair> keys;
  for (const auto& file : options.authority_keys) {
    auto key = load_authority_key(file);
    if (!key) {
      return std::unexpected(std::move(key.error()));
    }
    keys.push_back(std::move(*key));
  }
  std::vector<const crypto::Ed25519KeyPair*> authorities;
  for (const auto& key : keys) {
    authorities.push_back(&key);
  }
  auto directory = sign_directory(std::move(nodes), authorities, options.valid_for, options.now);
  if (!directory) {
    return directory;
  }
  auto encoded = directory->encode();
  if (!encoded) {
    return std::unexpected(std::move(encoded.error()));
  }
  const std::string_view text(reinterpret_cast<const char*>(encoded->data()), encoded->size());
  if (auto status = write_text_file(options.out, text); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return directory;
}

Result<crypto::Ed25519PublicKey> parse_authority_key(std::string_view hex) {
  auto bytes = crypto::from_hex(hex);
  if (!bytes || bytes->size() != crypto::kEd25519PublicKeySize) {
    return make_error(ErrorCategory::kParse,
                      fmt::format("'{}' is not an authority public key (64 hex digits)", hex));
  }
  crypto::Ed25519PublicKey key{};
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

Result<document::Directory> verify_directory_file(const std::filesystem::path& file,
                                                  const document::DirectoryTrust& trust,
                                                  std::uint64_t now) {
  auto bytes = read_file(file);
  if (!bytes) {
    return std::unexpected(std::move(bytes.error()));
  }
  auto parsed = document::Directory::parse(*bytes);
  if (!parsed) {
    return make_error(
        parsed.error().category,
        fmt::format("{} is not a directory: {}", file.string(), parsed.error().message),
        parsed.error().code);
  }
  auto verified = document::verify_directory(*bytes, trust, now);
  if (!verified) {
    return std::unexpected(explain(verified.error(), *parsed, trust, now));
  }
  return verified;
}

std::string describe_directory(const document::Directory& directory, std::uint64_t now) {
  std::string out = fmt::format("valid from {} until {}", format_utc(directory.valid_after),
                                format_utc(directory.valid_until));
  if (now >= directory.valid_after && now < directory.valid_until) {
    out += fmt::format(" ({} left)", format_uptime(directory.valid_until - now));
  }
  out += fmt::format("\n{} node(s), {} signature(s)\n\n", directory.nodes.size(),
                     directory.signatures.size());
  Table table({"NODE ID", "ROLES", "UDP", "TCP", "WEIGHT", "FAMILY"});
  table.set_align(4, Table::Align::kRight);
  for (const auto& node : directory.nodes) {
    std::string roles = node.is_relay() ? "relay" : "";
    if (node.is_exit()) {
      roles += roles.empty() ? "exit" : ",exit";
    }
    table.add_row({short_hex(node.node_id()), roles,
                   node.udp_address.empty() ? "-" : node.udp_address,
                   node.tcp_address.empty() ? "-" : node.tcp_address,
                   format_count(node.bandwidth_weight), node.family.empty() ? "-" : node.family});
  }
  return out + table.render();
}

}  // namespace nyx::cli
