#include "mix/circuit_crypto.hpp"

#include <algorithm>
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

// Opens body under key and nonce into `plain`, which may be the body's own
// first bytes (in place). On failure `plain` is zeroed and a body apart from
// it is left as it was.
Result<RelayMessage> open_body(std::span<const std::uint8_t, 32> key,
                               std::span<const std::uint8_t, kCellNonceSize> nonce, Bytes body,
                               std::span<std::uint8_t, kRelayPlainSize> plain) {
  if (auto opened = crypto::aead_open(key, cipher_nonce(nonce), {}, body, plain); !opened) {
    return std::unexpected(std::move(opened.error()));
  }
  return decode_relay_plain(plain);
}

Result<RelayMessage> open_body(std::span<const std::uint8_t, 32> key,
                               std::span<const std::uint8_t, kCellNonceSize> nonce,
                               MutableBytes body) {
  // In place: the plaintext lands in the first kRelayPlainSize bytes.
  return open_body(key, nonce, body, body.first<kRelayPlainSize>());
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
  for (std::size_t i = 0; i + 1 < hops_.size(); ++i) {
    remove_backward_layer(i, payload);
  }
  return open_body(hops_.back().backward_key.span(), nonce_of(payload), body_of(payload));
}

void ClientOnion::remove_backward_layer(std::size_t hop, CellPayload payload) const {
  auto nonce = nonce_of(payload);
  hops_[hop].backward_nonce.inverse(nonce);
  xor_layer(hops_[hop].backward_key.span(), nonce, body_of(payload));
}

Result<ClientOnion::Answer> ClientOnion::open_created(
    CellPayload payload, std::span<std::uint8_t, kRelayPlainSize> plain) const {
  // The common case first, with exactly the work of open(): every layer
  // removed, one open under the last hop's key. It opens into `plain`, not
  // in place, so a failure leaves the body for the scan without a copy.
  for (std::size_t i = 0; i + 1 < hops_.size(); ++i) {
    remove_backward_layer(i, payload);
  }
  const std::size_t last = hops_.size() - 1;
  auto opened =
      open_body(hops_[last].backward_key.span(), nonce_of(payload), body_of(payload), plain);
  // Then hop j = n-2 ... 0: putting hop j's layer back (relay_layer() is
  // the inverse of its removal) leaves the cell as hop j sealed it, if it
  // did. The order does not matter: only hop j and the client hold Kb_j.
  std::size_t hop = last;
  while (!opened && opened.error().category == ErrorCategory::kCrypto && hop > 0) {
    --hop;
    relay_layer(hops_[hop], Direction::kBackward, payload);
    opened = open_body(hops_[hop].backward_key.span(), nonce_of(payload), body_of(payload), plain);
  }
  if (!opened) {
    return std::unexpected(std::move(opened.error()));  // kCrypto: nobody's; kProtocol: malformed
  }
  return Answer{hop, *opened};
}

}  // namespace nyx::mix
