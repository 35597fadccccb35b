#include "mix/create_dir.hpp"

#include <algorithm>
#include <span>

#include "core/crypto/blake2b.hpp"
#include "core/crypto/secret.hpp"

namespace nyx::mix {
namespace {

static_assert(kCreateDirSecretSize == crypto::kKdfKeySize);
static_assert(kCreateDirSecretSize == crypto::kX25519KeySize);

// s = KDF(x, "mix-create-dir", 32), then the circuit keys from s as for any
// hop, so the two setups share one derivation.
HopKeys keys_from_secret(std::span<const std::uint8_t, kCreateDirSecretSize> x) {
  crypto::EphemeralSecret<crypto::kX25519KeySize> s;
  crypto::kdf(s.mutable_span(), x, "mix-create-dir");
  return HopKeys::derive(s.span());
}

}  // namespace

ClientCreateDir build_create_dir() {
  auto x = crypto::EphemeralSecret<kCreateDirSecretSize>::random();
  ClientCreateDir out;
  std::copy(x.span().begin(), x.span().end(), out.payload.begin());  // the padding stays zero
  out.keys = keys_from_secret(x.span());
  return out;
}

Result<HopKeys> process_create_dir(Bytes payload) {
  if (payload.size() != kCellPayloadSize) {
    return make_error(ErrorCategory::kProtocol, "CREATE_DIR: wrong payload size");
  }
  // Strict: the padding carries nothing, so nothing can be hidden in it.
  const Bytes padding = payload.subspan(kCreateDirSecretSize);
  if (std::any_of(padding.begin(), padding.end(), [](std::uint8_t b) { return b != 0; })) {
    return make_error(ErrorCategory::kProtocol, "CREATE_DIR: non-zero padding");
  }
  return keys_from_secret(payload.first<kCreateDirSecretSize>());
}

}  // namespace nyx::mix
