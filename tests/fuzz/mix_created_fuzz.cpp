// The client's CREATED scan (ClientOnion::open_created, proposal 0002,
// section 8.5) over a three-hop circuit with fixed keys. The first byte
// chooses the input's shape:
//   0 ... 2  the rest is a plaintext (type | length | data | padding, cut or
//            zero-filled to kRelayPlainSize) that hop `byte` seals under its
//            own backward key, under the layers of the hops before it: the
//            scan must name that hop, and parse whatever it says;
//   else     the rest is a raw payload from the entry: no hop's key may open
//            it.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/crypto/aead.hpp"
#include "mix/circuit_crypto.hpp"

namespace {

using nyx::mix::HopKeys;

constexpr std::size_t kHops = 3;

HopKeys hop_keys(std::size_t hop) {
  std::array<std::uint8_t, 32> secret;
  secret.fill(static_cast<std::uint8_t>(0x40 + hop));
  return HopKeys::derive(secret);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  std::vector<HopKeys> client;
  for (std::size_t hop = 0; hop < kHops; ++hop) {
    client.push_back(hop_keys(hop));
  }
  const nyx::mix::ClientOnion onion(std::move(client));
  std::array<std::uint8_t, nyx::mix::kCellPayloadSize> payload{};
  const std::uint8_t shape = data[0];
  const std::size_t rest = size - 1;
  if (shape < kHops) {
    const HopKeys sealer = hop_keys(shape);
    std::array<std::uint8_t, nyx::mix::kRelayPlainSize> plain{};
    std::copy_n(data + 1, std::min(rest, plain.size()), plain.begin());
    // As terminal_seal() does, with these plaintext bytes: nonce | body.
    std::fill_n(payload.begin(), nyx::mix::kCellNonceSize, 0x5a);
    const auto nonce = std::span(payload).first<nyx::crypto::kAeadNonceSize>();
    nyx::crypto::aead_seal(sealer.backward_key.span(), nonce, {}, plain,
                           std::span(payload).subspan(nyx::mix::kCellNonceSize));
    for (std::size_t hop = shape; hop-- > 0;) {
      nyx::mix::relay_layer(hop_keys(hop), nyx::mix::Direction::kBackward, payload);
    }
  } else {
    std::copy_n(data + 1, std::min(rest, payload.size()), payload.begin());
  }
  std::array<std::uint8_t, nyx::mix::kRelayPlainSize> plain;
  auto answer = onion.open_created(payload, plain);
  if (shape < kHops) {
    // Sealed by hop `shape`: only a malformed plaintext may fail, and an
    // answer names the hop that sealed it.
    if (!answer ? answer.error().category == nyx::ErrorCategory::kCrypto : answer->hop != shape) {
      std::abort();
    }
  } else if (answer) {
    std::abort();  // a forgery without any hop's key
  }
  return 0;
}
