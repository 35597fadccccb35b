#pragma once
// Consensus: the list of relays the directory authorities agreed on for
// period q (proposal 0002 section 3.4), a body (P, q and the entries, each
// with its consensus weight) followed by the authorities' signatures over
// that body under the context nyx-consensus-v1. The signatures sit outside
// the body, so an authority can add one later without changing what the
// others signed. Tor's v3 consensus (dir-spec section 3.4) is the model; the
// encoding is binary and canonical.
//
// parse() checks structure only; verify_consensus() (section 6.3) decides
// whether a node may use one. compute_consensus() makes the body.
//
// A value type with no secrets; functions are thread-safe.

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "document/relay_entry.hpp"

namespace nyx::document {

inline constexpr std::string_view kConsensusMagic = "NYXCNS";
inline constexpr std::uint8_t kConsensusVersion = 1;
// Ed25519 signs kConsensusSignatureContext || body.
inline constexpr std::string_view kConsensusSignatureContext = "nyx-consensus-v1";

// digest(body) = BLAKE2b-256(body): names one consensus body.
using ConsensusDigest = std::array<std::uint8_t, 32>;

struct ConsensusSignature {
  crypto::Ed25519PublicKey authority_key{};
  crypto::Ed25519Signature signature{};

  bool operator==(const ConsensusSignature&) const = default;
};

struct Consensus {
  std::uint32_t period_seconds = 0;  // P
  std::uint64_t period = 0;          // q
  std::vector<RelayEntry> entries;   // strictly ascending by node_id
  // Strictly ascending by authority_key, so no key signs twice (parse()
  // refuses any other order). Whether each verifies is not parse()'s
  // business: verify_consensus() counts the valid ones.
  std::vector<ConsensusSignature> signatures;

  // The body: every byte before sig_count. kInvalidArgument naming what
  // breaks a rule the parser enforces.
  Result<std::vector<std::uint8_t>> encode_body() const;
  // body || sig_count || signatures; kInvalidArgument also without a
  // signature (a consensus carries 1 to 32).
  Result<std::vector<std::uint8_t>> encode() const;
  // consensus_digest(encode_body()).
  Result<ConsensusDigest> digest() const;

  // Adds `signature` where the order puts it. Adding one that is already
  // there changes nothing; kInvalidArgument for another signature by a key
  // that already signed, kResourceExhausted beyond 32 signatures. The
  // signature is not checked: verify it first (consensus_signature_valid).
  Status add_signature(const ConsensusSignature& signature);
  // Signs the body with `authority` and adds the signature.
  Status sign(const crypto::Ed25519KeyPair& authority);

  // Parses exactly one consensus (kParse "consensus: <field>: <reason>"):
  // magic, version, a P of section 2.1, entries as in a vote (descriptors
  // for q, signatures unchecked), 1 to 32 signatures strictly ascending by
  // key, at most kMaxDocument bytes, no trailing bytes.
  static Result<Consensus> parse(Bytes encoded);
};

ConsensusDigest consensus_digest(Bytes body);

// Sign(authority, "nyx-consensus-v1", body).
ConsensusSignature sign_consensus_body(const crypto::Ed25519KeyPair& authority, Bytes body);
// True when `signature` is its authority key's signature over `body`.
bool consensus_signature_valid(const ConsensusSignature& signature, Bytes body);

}  // namespace nyx::document
