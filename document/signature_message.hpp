#pragma once
// SignatureMessage: one authority's signature on the consensus body it
// computed, as it sends it to the other authorities (proposal 0002 section
// 3.5). 147 bytes, fixed. The receiver can check the signature only against
// its own body, and only when the digests agree; otherwise the two computed
// different consensuses (section 5.6).
//
// A value type with no secrets; functions are thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/bytes.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "document/consensus.hpp"

namespace nyx::document {

inline constexpr std::string_view kSignatureMessageMagic = "NYXSIG";
inline constexpr std::uint8_t kSignatureMessageVersion = 1;
inline constexpr std::size_t kSignatureMessageSize = 147;

struct SignatureMessage {
  std::uint32_t period_seconds = 0;  // P
  std::uint64_t period = 0;          // q
  ConsensusDigest consensus_digest{};
  crypto::Ed25519PublicKey authority_key{};
  crypto::Ed25519Signature signature{};  // Sign(authority_key, "nyx-consensus-v1", body)

  // The message `authority` sends for `consensus`: its P and q, the digest
  // of its body and the signature over it.
  static Result<SignatureMessage> make(const Consensus& consensus,
                                       const crypto::Ed25519KeyPair& authority);

  // kInvalidArgument for a P that section 2.1 does not allow (the parser
  // refuses it).
  Result<std::array<std::uint8_t, kSignatureMessageSize>> encode() const;
  // kParse "signature message: <field>: <reason>" unless `encoded` is
  // exactly 147 bytes with the magic, version 1 and a P of section 2.1.
  static Result<SignatureMessage> parse(Bytes encoded);

  // Against the receiver's own body: kProtocol when it signed a different
  // body (the digests differ, so the signature cannot be checked), kCrypto
  // when the signature does not verify.
  Status check_against(Bytes own_body) const;

  ConsensusSignature consensus_signature() const { return {authority_key, signature}; }
};

}  // namespace nyx::document
