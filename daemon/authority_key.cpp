#include "daemon/authority_key.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/crypto/encoding.hpp"
#include "core/crypto/key_file.hpp"
#include "core/crypto/secret.hpp"

namespace nyx::daemon {

Result<crypto::Ed25519KeyPair> read_authority_key(const std::filesystem::path& key_file) {
  auto seed = crypto::read_secret_key_file<crypto::kEd25519SeedSize>(key_file);
  if (!seed) {
    return std::unexpected(std::move(seed.error()));
  }
  return crypto::Ed25519KeyPair::from_seed(seed->span());
}

Status check_authority_listed(const NodeConfig& config,
                              const crypto::Ed25519PublicKey& authority_key,
                              const crypto::X25519PublicKey& link_key) {
  const auto& entries = config.directory.authority_entries;
  const bool listed = std::any_of(entries.begin(), entries.end(), [&](const auto& entry) {
    return entry.key == authority_key && entry.link == link_key;
  });
  if (listed) {
    return {};
  }
  return make_error(
      ErrorCategory::kConfig,
      fmt::format(
          "directory.authorities: no entry has this authority's key {} and this node's link key "
          "{} (from {} and link.key): every node must list it as nyxctl keygen --authority printed",
          crypto::to_hex(authority_key), crypto::to_hex(link_key),
          config.authority.key_file.string()));
}

}  // namespace nyx::daemon
