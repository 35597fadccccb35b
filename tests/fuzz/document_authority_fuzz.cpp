// An authority's acceptance checks (proposal 0002 sections 5.1, 5.4, 5.6)
// on arbitrary bytes: never crash, stay bounded, and are idempotent. The
// first byte picks what arrives (0: POST_DESCRIPTOR, 1: POST_VOTE, 2:
// POST_SIGNATURE), the next 32 are the link's peer key, the rest the
// document. The authority is number 1 of the test fixtures' three (P =
// 3600 s), its clock inside the vote window of period 490 000, so the
// valid seeds of the vote corpus are accepted and reach the equivocation
// rule.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "document/authority_state.hpp"

namespace {

using nyx::document::AuthorityState;

constexpr std::uint64_t kQ = 490'000;
constexpr std::uint64_t kNow = kQ * 3600 - 4 * 300 + 1;

nyx::crypto::Ed25519KeyPair authority_key(int n) {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 0xA0;
  seed[1] = static_cast<std::uint8_t>(n);
  return nyx::crypto::Ed25519KeyPair::from_seed(seed);
}

nyx::crypto::X25519PublicKey authority_link(int n) {
  std::array<std::uint8_t, 32> secret{};
  secret[0] = 0xA1;
  secret[1] = static_cast<std::uint8_t>(n);
  return nyx::crypto::X25519KeyPair::from_secret(secret).public_key;
}

AuthorityState fresh_authority() {
  nyx::document::AuthorityConfig config{
      .period = *nyx::document::Period::from_seconds(3600), .clock_skew = 300, .authorities = {}};
  for (int n = 1; n <= 3; ++n) {
    config.authorities.push_back({authority_key(n).public_key, authority_link(n)});
  }
  return *AuthorityState::make(config, authority_key(1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 33) {
    return 0;
  }
  nyx::crypto::X25519PublicKey peer;
  std::copy_n(data + 1, peer.size(), peer.begin());
  const nyx::Bytes document(data + 33, size - 33);
  AuthorityState authority = fresh_authority();
  switch (data[0] % 3) {
    case 0: {
      auto screened = authority.screen_descriptor(document, peer, kNow);
      if (screened && screened->already_held) {
        std::abort();  // nothing is held yet
      }
      break;
    }
    case 1: {
      const auto first = authority.accept_vote(document, peer, kNow);
      const auto second = authority.accept_vote(document, peer, kNow);
      if (first.has_value() != second.has_value()) {
        std::abort();
      }
      if (first && *second != nyx::document::VoteAccepted::kAlreadyHeld) {
        std::abort();
      }
      break;
    }
    default:
      (void)authority.accept_signature(document, peer, kNow);
      break;
  }
  return 0;
}
