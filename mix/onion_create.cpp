#include "mix/onion_create.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "core/crypto/blake2b.hpp"
#include "core/crypto/chacha20.hpp"
#include "core/crypto/compare.hpp"
#include "core/crypto/random.hpp"

namespace nyx::mix {
namespace {

using Secret32 = crypto::EphemeralSecret<32>;

// A hop re-encrypts beta || zeros(r) || tail with one ChaCha20 pass.
constexpr std::size_t kStreamSize = kBetaSize + kRoutingSize + kCreateTailSize;  // 1020
constexpr std::array<std::uint8_t, crypto::kChaCha20NonceSize> kZeroNonce{};

std::unexpected<Error> create_error(ErrorCategory category, CreateErrc code, const char* what) {
  return make_error(category, std::string("CREATE: ") + what, static_cast<int>(code));
}

// The per-hop secrets of the header, all from the DH output s.
struct HeaderKeys {
  Secret32 mac;     // mu
  Secret32 stream;  // rho
  Secret32 blind;   // b

  explicit HeaderKeys(std::span<const std::uint8_t, 32> s) {
    crypto::kdf(mac.mutable_span(), s, "mix-create-mac");
    crypto::kdf(stream.mutable_span(), s, "mix-create-stream");
    crypto::kdf(blind.mutable_span(), s, "mix-create-blind");
  }
};

void header_mac(std::span<std::uint8_t, kGammaSize> out, const Secret32& mac_key, Bytes beta) {
  crypto::blake2b(out, beta, mac_key.span());
}

void stream_xor(const Secret32& key, MutableBytes data) {
  crypto::chacha20_xor(key.span(), kZeroNonce, 0, data, data);
}

// A fresh CREATE under a closed key is answered, not forwarded, so that the
// client learns it may use the next key: no tag is stored and the routing
// information is not read; only the keys to seal REFUSED with are derived.
CreateOutcome refused_outcome(std::uint64_t epoch, const Secret32& s) {
  CreateOutcome refused;
  refused.action = CreateAction::kRefuse;
  refused.epoch = epoch;
  refused.keys = HopKeys::derive(s.span());
  return refused;
}

}  // namespace

Result<ClientCreate> build_create(std::span<const OnionHop> hops) {
  const std::size_t n = hops.size();
  if (n < 1 || n > kCreateMaxHops) {
    return make_error(ErrorCategory::kInvalidArgument, "CREATE: 1 to 7 hops");
  }
  ClientCreate out;
  Secret32 x = Secret32::random();
  std::array<std::uint8_t, 32> alpha0;
  crypto::x25519_base(alpha0, x.span());

  std::vector<HeaderKeys> header;
  header.reserve(n);
  out.keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    // s_i = b_{i-1} * ... * b_0 * x * onion_key_i, as hop i will compute it
    // from its own secret and the blinded alpha it receives.
    Secret32 s;
    if (auto dh = crypto::x25519(s.mutable_span(), x.span(), hops[i].onion_key); !dh) {
      return std::unexpected(std::move(dh.error()));
    }
    for (std::size_t j = 0; j < i; ++j) {
      Secret32 blinded;
      if (auto dh = crypto::x25519(blinded.mutable_span(), header[j].blind.span(), s.span()); !dh) {
        return std::unexpected(std::move(dh.error()));
      }
      s = std::move(blinded);
    }
    header.emplace_back(s.span());
    out.keys.push_back(HopKeys::derive(s.span()));
  }

  // The keystreams every hop will apply to beta || zeros(r).
  std::vector<std::array<std::uint8_t, kBetaSize + kRoutingSize>> streams(n);
  for (std::size_t i = 0; i < n; ++i) {
    streams[i].fill(0);
    stream_xor(header[i].stream, streams[i]);
  }
  // Filler: what the zeros appended by hops 0..n-2 have become by the time
  // beta reaches the last hop.
  std::vector<std::uint8_t> filler;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    filler.resize(filler.size() + kRoutingSize, 0);
    const std::uint8_t* ks = streams[i].data() + kBetaSize + kRoutingSize - filler.size();
    for (std::size_t k = 0; k < filler.size(); ++k) {
      filler[k] ^= ks[k];
    }
  }

  std::array<std::uint8_t, kBetaSize> beta{};
  const std::size_t head = kBetaSize - filler.size();
  beta[0] = static_cast<std::uint8_t>(RoutingFlag::kTerminal);
  // Random, not zero, padding: the last hop must not learn the path length.
  crypto::random_bytes(std::span(beta).subspan(kRoutingSize, head - kRoutingSize));
  for (std::size_t k = 0; k < head; ++k) {
    beta[k] ^= streams[n - 1][k];
  }
  std::copy(filler.begin(), filler.end(), beta.begin() + static_cast<std::ptrdiff_t>(head));
  std::array<std::uint8_t, kGammaSize> gamma;
  header_mac(gamma, header[n - 1].mac, beta);

  for (std::size_t i = n - 1; i-- > 0;) {
    std::array<std::uint8_t, kBetaSize> next;
    next[0] = static_cast<std::uint8_t>(RoutingFlag::kForward);
    std::copy(hops[i + 1].link_key.begin(), hops[i + 1].link_key.end(), next.begin() + 1);
    std::copy(gamma.begin(), gamma.end(), next.begin() + 33);
    std::copy(beta.begin(), beta.end() - kRoutingSize, next.begin() + kRoutingSize);
    for (std::size_t k = 0; k < kBetaSize; ++k) {
      next[k] ^= streams[i][k];
    }
    beta = next;
    header_mac(gamma, header[i].mac, beta);
  }

  auto p = out.payload.begin();
  p = std::copy(alpha0.begin(), alpha0.end(), p);
  p = std::copy(gamma.begin(), gamma.end(), p);
  std::copy(beta.begin(), beta.end(), p);
  crypto::random_bytes(std::span(out.payload).last(kCreateTailSize));
  return out;
}

Result<CreateOutcome> process_create(OnionKeyRing& ring,
                                     std::span<std::uint8_t, kCellPayloadSize> payload) {
  auto alpha = payload.subspan<0, kAlphaSize>();
  auto gamma = payload.subspan<kAlphaSize, kGammaSize>();
  auto beta = payload.subspan<kAlphaSize + kGammaSize, kBetaSize>();

  // In the order of section 7.3, so the common case costs one DH.
  OnionKeyRing::Entry* opened = nullptr;
  Secret32 s;
  std::optional<HeaderKeys> keys;
  for (OnionKeyRing::Entry* entry : ring.trial_order()) {
    if (entry == nullptr) {
      continue;
    }
    if (auto dh = crypto::x25519(s.mutable_span(), entry->key.secret.span(), alpha); !dh) {
      return create_error(ErrorCategory::kCrypto, CreateErrc::kLowOrder, "low-order alpha");
    }
    keys.emplace(s.span());
    std::array<std::uint8_t, kGammaSize> expected;
    header_mac(expected, keys->mac, beta);
    if (crypto::ct_equal(expected, gamma)) {
      opened = entry;
      break;
    }
  }
  if (opened == nullptr) {
    return create_error(ErrorCategory::kCrypto, CreateErrc::kBadMac, "header MAC mismatch");
  }
  ReplayTag tag;
  crypto::kdf(tag, s.span(), "mix-create-replay");
  if (tag == ReplayTag{}) {
    return create_error(ErrorCategory::kCrypto, CreateErrc::kZeroTag, "zero replay tag");
  }
  if (opened->replay->contains(tag)) {
    return create_error(ErrorCategory::kPermission, CreateErrc::kReplay, "CREATE replayed");
  }
  if (opened->closed) {
    return refused_outcome(opened->epoch, s);
  }
  if (auto stored = ring.record_tag(*opened, tag); !stored) {
    // The store took no tag, so the key is closed now (record_tag) and this
    // CREATE is a fresh one under a closed key: step 4, not an error.
    return refused_outcome(opened->epoch, s);
  }

  std::array<std::uint8_t, kStreamSize> shifted;
  std::memcpy(shifted.data(), beta.data(), kBetaSize);
  std::memset(shifted.data() + kBetaSize, 0, kRoutingSize);
  std::memcpy(shifted.data() + kBetaSize + kRoutingSize,
              payload.data() + kCellPayloadSize - kCreateTailSize, kCreateTailSize);
  stream_xor(keys->stream, shifted);

  CreateOutcome outcome;
  outcome.epoch = opened->epoch;
  outcome.keys = HopKeys::derive(s.span());
  std::uint8_t flag = shifted[0];
  if (flag == static_cast<std::uint8_t>(RoutingFlag::kTerminal)) {
    outcome.action = CreateAction::kTerminal;
    return outcome;
  }
  if (flag != static_cast<std::uint8_t>(RoutingFlag::kForward)) {
    return create_error(ErrorCategory::kProtocol, CreateErrc::kBadRouting, "unknown routing flag");
  }
  std::copy_n(shifted.begin() + 1, 32, outcome.next_link_key.begin());
  std::array<std::uint8_t, kAlphaSize> next_alpha;
  if (auto dh = crypto::x25519(next_alpha, keys->blind.span(), alpha); !dh) {
    return create_error(ErrorCategory::kCrypto, CreateErrc::kLowOrder, "low-order alpha");
  }
  std::copy(next_alpha.begin(), next_alpha.end(), alpha.begin());
  std::copy_n(shifted.begin() + 33, kGammaSize, gamma.begin());
  std::memcpy(payload.data() + kAlphaSize + kGammaSize, shifted.data() + kRoutingSize,
              kBetaSize + kCreateTailSize);
  return outcome;
}

}  // namespace nyx::mix
