#include "core/crypto/poly1305.hpp"

#include <sodium.h>

#include "core/crypto/detail/sodium_init.hpp"

namespace nyx::crypto {

static_assert(kPoly1305KeySize == crypto_onetimeauth_poly1305_KEYBYTES);
static_assert(kPoly1305Size == crypto_onetimeauth_poly1305_BYTES);

namespace {

crypto_onetimeauth_poly1305_state* sodium_state(std::array<std::uint8_t, 256>& state) noexcept {
  return reinterpret_cast<crypto_onetimeauth_poly1305_state*>(state.data());
}

}  // namespace

void poly1305(Poly1305Key key, Bytes in, Poly1305Out out) noexcept {
  detail::ensure_sodium();
  crypto_onetimeauth_poly1305(out.data(), in.data(), in.size(), key.data());
}

Poly1305::Poly1305(Poly1305Key key) noexcept {
  static_assert(sizeof(state_) == sizeof(crypto_onetimeauth_poly1305_state));
  static_assert(alignof(Poly1305) >= alignof(crypto_onetimeauth_poly1305_state));
  detail::ensure_sodium();
  crypto_onetimeauth_poly1305_init(sodium_state(state_), key.data());
}

Poly1305::~Poly1305() { sodium_memzero(state_.data(), state_.size()); }

void Poly1305::update(Bytes data) noexcept {
  crypto_onetimeauth_poly1305_update(sodium_state(state_), data.data(), data.size());
}

void Poly1305::finish(Poly1305Out out) noexcept {
  crypto_onetimeauth_poly1305_final(sodium_state(state_), out.data());
}

}  // namespace nyx::crypto
