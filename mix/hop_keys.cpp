#include "mix/hop_keys.hpp"

#include <string>

#include "core/crypto/blake2b.hpp"

namespace nyx::mix {
namespace {

// Labels "mix-cell-{fwd,bwd}-{stream,hash,perm}"; the four labels of the
// cells before them ("mix-forward-key" …) are retired, never reused.
DirectionKeys derive_direction(std::span<const std::uint8_t, crypto::kX25519KeySize> secret,
                               const std::string& direction) {
  DirectionKeys keys;
  crypto::kdf(keys.stream.mutable_span(), secret, "mix-cell-" + direction + "-stream");
  crypto::kdf(keys.hash.mutable_span(), secret, "mix-cell-" + direction + "-hash");
  crypto::EphemeralSecret<kCellPermKeySize> perm;
  crypto::kdf(perm.mutable_span(), secret, "mix-cell-" + direction + "-perm");
  keys.perm = CellPermutation(perm.span());
  return keys;
}

}  // namespace

HopKeys HopKeys::derive(std::span<const std::uint8_t, crypto::kX25519KeySize> shared_secret) {
  return HopKeys{derive_direction(shared_secret, "fwd"), derive_direction(shared_secret, "bwd")};
}

}  // namespace nyx::mix
