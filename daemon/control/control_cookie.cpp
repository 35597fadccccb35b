#include "daemon/control/control_cookie.hpp"

#include <utility>

#include "core/crypto/compare.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/key_file.hpp"

namespace nyx::control {

Result<ControlCookie> ControlCookie::create(const std::filesystem::path& file,
                                            bool group_readable) {
  auto secret = crypto::SecretBytes<kSize>::random();
  const auto access =
      group_readable ? crypto::KeyFileAccess::kGroupReadable : crypto::KeyFileAccess::kOwnerOnly;
  if (auto written = crypto::write_key_file(file, secret.span(), access); !written) {
    return std::unexpected(std::move(written.error()));
  }
  return ControlCookie(std::move(secret));
}

Result<ControlCookie> ControlCookie::load(const std::filesystem::path& file) {
  auto secret = crypto::read_secret_key_file<kSize>(file, crypto::KeyFileAccess::kGroupReadable);
  if (!secret) {
    return std::unexpected(std::move(secret.error()));
  }
  return ControlCookie(std::move(*secret));
}

bool ControlCookie::matches_hex(std::string_view hex) const {
  auto candidate = crypto::from_hex(hex);
  return candidate && crypto::ct_equal(*candidate, secret_.span());
}

std::string ControlCookie::hex() const { return crypto::to_hex(secret_.span()); }

}  // namespace nyx::control
