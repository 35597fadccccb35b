#include "daemon/key_store.hpp"

#include <filesystem>
#include <system_error>

#include "core/crypto/key_file.hpp"
#include "core/crypto/secret.hpp"

namespace nyx::daemon {
namespace {

// The 32 secret bytes in `file`, made and written first when it does not exist.
Result<crypto::SecretBytes<32>> load_or_create(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(file, ec))) {
    auto fresh = crypto::SecretBytes<32>::random();
    if (auto status = crypto::write_key_file(file, fresh.span()); !status) {
      return std::unexpected(std::move(status.error()));
    }
  }
  return crypto::read_secret_key_file<32>(file);
}

}  // namespace

Result<crypto::Ed25519KeyPair> KeyStore::identity() const {
  auto seed = load_or_create(dir_.identity_key());
  if (!seed) {
    return std::unexpected(std::move(seed.error()));
  }
  return crypto::Ed25519KeyPair::from_seed(seed->span());
}

Result<crypto::X25519KeyPair> KeyStore::link() const {
  auto secret = load_or_create(dir_.link_key());
  if (!secret) {
    return std::unexpected(std::move(secret.error()));
  }
  return crypto::X25519KeyPair::from_secret(secret->span());
}

Result<crypto::X25519KeyPair> KeyStore::onion(std::uint64_t epoch) const {
  auto secret = load_or_create(dir_.onion_key(epoch));
  if (!secret) {
    return std::unexpected(std::move(secret.error()));
  }
  return crypto::X25519KeyPair::from_secret(secret->span());
}

}  // namespace nyx::daemon
