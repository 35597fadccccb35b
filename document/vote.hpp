#pragma once
// Vote: what one directory authority says consensus q should list (proposal
// 0002 section 3.3): the relays whose descriptors it accepted and found
// reachable, each with the weight it gives them, signed with its authority
// key under the context nyx-vote-v1. Tor's v3 votes (dir-spec section 3)
// are the model; the encoding is binary and canonical.
//
// parse() checks structure only: the vote's own signature and its entries'
// descriptor signatures are checked by verify(), after the cheap checks a
// receiver runs first (section 5.4).
//
// A value type with no secrets; functions are thread-safe.

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "document/relay_entry.hpp"

namespace nyx::document {

inline constexpr std::string_view kVoteMagic = "NYXVOT";
inline constexpr std::uint8_t kVoteVersion = 1;
// Ed25519 signs kVoteSignatureContext || every byte before the signature.
inline constexpr std::string_view kVoteSignatureContext = "nyx-vote-v1";

struct Vote {
  crypto::Ed25519PublicKey authority_key{};  // the voter
  std::uint32_t period_seconds = 0;          // P
  std::uint64_t period = 0;                  // q: the consensus period voted for
  std::vector<RelayEntry> entries;           // strictly ascending by node_id
  crypto::Ed25519Signature signature{};

  // Every byte before the signature; kInvalidArgument naming what breaks a
  // rule the parser enforces, so nothing unparseable is ever signed.
  Result<std::vector<std::uint8_t>> encode_unsigned() const;
  // encode_unsigned() || signature.
  Result<std::vector<std::uint8_t>> encode() const;
  // Signs with `authority`, which must be the key pair of authority_key
  // (kInvalidArgument otherwise).
  Status sign(const crypto::Ed25519KeyPair& authority);

  // Parses exactly one vote (kParse "vote: <field>: <reason>"): magic,
  // version, a P of section 2.1, entries sorted strictly by node_id with
  // weights of at least 1 and descriptors that parse and are for q, at most
  // kMaxDocument bytes, no trailing bytes. No signature is checked.
  static Result<Vote> parse(Bytes encoded);

  // kCrypto unless the vote carries authority_key's signature and every
  // entry's descriptor carries its identity's ("bad descriptor signature:
  // node <8 hex>" for the first that does not).
  Status verify() const;
};

}  // namespace nyx::document
