#include "cli/node_keys.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <sys/stat.h>

#include "core/crypto/key_file.hpp"
#include "core/crypto/secret.hpp"

namespace nyx::cli {
namespace {

constexpr std::size_t kSecretSize = 32;

Status refuse_existing(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(file, ec))) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("{} already exists; refusing to replace a key (move it away "
                                  "first if you really mean to)",
                                  file.string()));
  }
  return {};
}

}  // namespace

std::filesystem::path onion_key_name(std::uint64_t epoch) {
  return fmt::format("onion-{}.key", epoch);
}

document::NodeId NodePublicKeys::node_id() const {
  document::NodeDescriptor descriptor;
  descriptor.identity_key = identity;
  return descriptor.node_id();
}

Status make_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!dir.parent_path().empty()) {
    std::filesystem::create_directories(dir.parent_path(), ec);
  }
  // mkdir with 0700 (not a later chmod) leaves no moment where others can enter.
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    const int err = errno;
    return make_error(ErrorCategory::kIo,
                      fmt::format("cannot create {}: {}", dir.string(), std::strerror(err)), err);
  }
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return make_error(ErrorCategory::kIo, fmt::format("{} is not a directory", dir.string()));
  }
  if ((info.st_mode & 077) != 0) {
    return make_error(ErrorCategory::kPermission,
                      fmt::format("{} is accessible by group or others (mode {:o}); keys "
                                  "belong in a directory only you can enter (chmod 700)",
                                  dir.string(), info.st_mode & 0777));
  }
  return {};
}

Result<NodePublicKeys> generate_node_keys(const std::filesystem::path& dir,
                                          std::uint64_t onion_epoch) {
  if (auto status = make_private_dir(dir); !status) {
    return std::unexpected(std::move(status.error()));
  }
  const std::filesystem::path identity_file = dir / kIdentityKeyName;
  const std::filesystem::path link_file = dir / kLinkKeyName;
  const std::filesystem::path onion_file = dir / onion_key_name(onion_epoch);
  for (const auto& file : {identity_file, link_file, onion_file}) {
    if (auto status = refuse_existing(file); !status) {
      return std::unexpected(std::move(status.error()));
    }
  }
  NodePublicKeys keys;
  keys.onion_epoch = onion_epoch;

  const auto seed = crypto::SecretBytes<crypto::kEd25519SeedSize>::random();
  keys.identity = crypto::Ed25519KeyPair::from_seed(seed.span()).public_key;
  if (auto status = crypto::write_key_file(identity_file, seed.span()); !status) {
    return std::unexpected(std::move(status.error()));
  }
  const auto link = crypto::X25519KeyPair::generate();
  keys.link = link.public_key;
  if (auto status = crypto::write_key_file(link_file, link.secret.span()); !status) {
    return std::unexpected(std::move(status.error()));
  }
  const auto onion = crypto::X25519KeyPair::generate();
  keys.onion = onion.public_key;
  if (auto status = crypto::write_key_file(onion_file, onion.secret.span()); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return keys;
}

Result<crypto::Ed25519PublicKey> generate_authority_key(const std::filesystem::path& file) {
  if (auto status = refuse_existing(file); !status) {
    return std::unexpected(std::move(status.error()));
  }
  const auto seed = crypto::SecretBytes<crypto::kEd25519SeedSize>::random();
  const auto pair = crypto::Ed25519KeyPair::from_seed(seed.span());
  if (auto status = crypto::write_key_file(file, seed.span()); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return pair.public_key;
}

std::string authority_entry_line(std::string_view key_hex, std::string_view link_hex,
                                 std::string_view address, std::string_view tcp_address) {
  return fmt::format(R"({{ key = "{}", link = "{}", address = "{}", tcp_address = "{}" }},)",
                     key_hex, link_hex, address, tcp_address);
}

Result<AuthorityPublicKeys> generate_authority_keys(const std::filesystem::path& dir) {
  if (auto status = make_private_dir(dir); !status) {
    return std::unexpected(std::move(status.error()));
  }
  const std::filesystem::path authority_file = dir / kAuthorityKeyName;
  if (auto status = refuse_existing(authority_file); !status) {
    return std::unexpected(std::move(status.error()));
  }
  AuthorityPublicKeys keys;
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(dir / kIdentityKeyName, ec))) {
    auto link = crypto::read_secret_key_file<crypto::kX25519KeySize>(dir / kLinkKeyName);
    if (!link) {
      return std::unexpected(std::move(link.error()));
    }
    keys.link = crypto::X25519KeyPair::from_secret(link->span()).public_key;
  } else {
    auto node = generate_node_keys(dir);
    if (!node) {
      return std::unexpected(std::move(node.error()));
    }
    keys.link = node->link;
  }
  auto authority = generate_authority_key(authority_file);
  if (!authority) {
    return std::unexpected(std::move(authority.error()));
  }
  keys.authority = *authority;
  return keys;
}

Result<crypto::Ed25519KeyPair> load_authority_key(const std::filesystem::path& file) {
  auto seed = crypto::read_secret_key_file<kSecretSize>(file);
  if (!seed) {
    return std::unexpected(std::move(seed.error()));
  }
  return crypto::Ed25519KeyPair::from_seed(seed->span());
}

}  // namespace nyx::cli
