#include "mix/circuit_crypto.hpp"

#include <array>

#include "core/crypto/aead.hpp"
#include "core/crypto/chacha20.hpp"
#include "core/crypto/random.hpp"

namespace nyx::mix {
namespace {

std::span<std::uint8_t, kCellNonceSize> nonce_of(CellPayload payload) noexcept {
  return payload.subspan<0, kCellNonceSize>();
}
std::span<const std::uint8_t, crypto::kChaCha20NonceSize> cipher_nonce(
    std::span<const std::uint8_t, kCellNonceSize> nonce) noexcept {
  return nonce.subspan<0, crypto::kChaCha20NonceSize>();
}
MutableBytes body_of(CellPayload payload) noexcept { return payload.subspan(kCellNonceSize); }

void xor_layer(std::span<const std::uint8_t, 32> key,
               std::span<const std::uint8_t, kCellNonceSize> nonce, MutableBytes body) noexcept {
  crypto::chacha20_xor(key, cipher_nonce(nonce), 0, body, body);
}

// Seals plain into body under key and nonce (the last hop's layer).
void seal_body(std::span<const std::uint8_t, 32> key,
               std::span<const std::uint8_t, kCellNonceSize> nonce, RelayType type, Bytes data,
               MutableBytes body) {
  std::array<std::uint8_t, kRelayPlainSize> plain;
  encode_relay_plain(type, data, plain);
  crypto::aead_seal(key, cipher_nonce(nonce), {}, plain, body);
}

Result<RelayMessage> open_body(std::span<const std::uint8_t, 32> key,
                               std::span<const std::uint8_t, kCellNonceSize> nonce,
                               MutableBytes body) {
  // In place: the plaintext lands in the first kRelayPlainSize bytes.
  if (auto opened =
          crypto::aead_open(key, cipher_nonce(nonce), {}, body, body.first(kRelayPlainSize));
      !opened) {
    return std::unexpected(std::move(opened.error()));
  }
  return decode_relay_plain(body.first<kRelayPlainSize>());
}

}  // namespace

void relay_layer(const HopKeys& keys, Direction direction, CellPayload payload) noexcept {
  const bool forward = direction == Direction::kForward;
  auto nonce = nonce_of(payload);
  xor_layer(forward ? keys.forward_key.span() : keys.backward_key.span(), nonce, body_of(payload));
  (forward ? keys.forward_nonce : keys.backward_nonce).forward(nonce);
}

Result<RelayMessage> terminal_open(const HopKeys& keys, CellPayload payload) {
  return open_body(keys.forward_key.span(), nonce_of(payload), body_of(payload));
}

void terminal_seal(const HopKeys& keys, RelayType type, Bytes data, CellPayload payload) {
  auto nonce = nonce_of(payload);
  crypto::random_bytes(nonce);
  seal_body(keys.backward_key.span(), nonce, type, data, body_of(payload));
}

ClientOnion::ClientOnion(std::vector<HopKeys> hops) : hops_(std::move(hops)) {
  if (hops_.empty()) {
    crypto::detail::precondition_failed("ClientOnion: no hops");
  }
}

void ClientOnion::seal(RelayType type, Bytes data, CellPayload payload) const {
  // nonces[i] is the nonce hop i receives.
  std::vector<std::array<std::uint8_t, kCellNonceSize>> nonces(hops_.size());
  crypto::random_bytes(nonces[0]);
  for (std::size_t i = 1; i < hops_.size(); ++i) {
    nonces[i] = nonces[i - 1];
    hops_[i - 1].forward_nonce.forward(nonces[i]);
  }
  MutableBytes body = body_of(payload);
  seal_body(hops_.back().forward_key.span(), nonces.back(), type, data, body);
  for (std::size_t i = hops_.size() - 1; i-- > 0;) {
    xor_layer(hops_[i].forward_key.span(), nonces[i], body);
  }
  std::copy(nonces[0].begin(), nonces[0].end(), payload.begin());
}

Result<RelayMessage> ClientOnion::open(CellPayload payload) const {
  auto nonce = nonce_of(payload);
  MutableBytes body = body_of(payload);
  for (std::size_t i = 0; i + 1 < hops_.size(); ++i) {
    hops_[i].backward_nonce.inverse(nonce);
    xor_layer(hops_[i].backward_key.span(), nonce, body);
  }
  return open_body(hops_.back().backward_key.span(), nonce, body);
}

}  // namespace nyx::mix
