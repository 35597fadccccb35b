#pragma once
// The directory: a document listing node descriptors with a validity period,
// signed by one or more directory authorities (Ed25519), its canonical byte
// encoding (docs/protocol.md, "Directory"), and the check a node runs before
// trusting one: signed by at least `threshold` of its configured authority
// keys, and valid at the given time.
//
// Value types; a verified Directory is immutable and safe to share.

#include <cstdint>
#include <optional>
#include <vector>

#include "core/bytes.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "document/descriptor.hpp"

namespace nyx::document {

// Error codes carried in Error::code by parse and verify.
enum class DirectoryErrc : int {
  kMalformed = 1,       // kParse: bytes that do not follow the format
  kBadSignature = 2,    // kCrypto: a configured authority's signature is wrong
  kUnknownKey = 3,      // kPermission: no signature by a configured authority
  kBelowThreshold = 4,  // kPermission: too few configured authorities signed
  kNotYetValid = 5,     // kTimeout: now < valid_after
  kExpired = 6,         // kTimeout: now >= valid_until
};

struct DirectorySignature {
  crypto::Ed25519PublicKey authority{};
  crypto::Ed25519Signature signature{};
};

struct Directory {
  std::uint64_t valid_after = 0;  // Unix seconds, inclusive
  std::uint64_t valid_until = 0;  // Unix seconds, exclusive
  std::vector<NodeDescriptor> nodes;
  std::vector<DirectorySignature> signatures;

  // The signed part: magic, version, validity, descriptors.
  Result<std::vector<std::uint8_t>> encode_body() const;
  // Body followed by the signatures.
  Result<std::vector<std::uint8_t>> encode() const;
  // Adds `authority`'s signature over the current body.
  Status sign(const crypto::Ed25519KeyPair& authority);

  // Parses without checking signatures or time (kParse / kMalformed).
  static Result<Directory> parse(Bytes encoded);

  const NodeDescriptor* find(const NodeId& id) const noexcept;
};

// What a node trusts: its configured authority keys and how many must sign.
struct DirectoryTrust {
  std::vector<crypto::Ed25519PublicKey> authorities;
  std::size_t threshold = 1;
};

// Parses and verifies `encoded` at Unix time `now`; the Directory only when
// every check passes (codes: DirectoryErrc).
Result<Directory> verify_directory(Bytes encoded, const DirectoryTrust& trust, std::uint64_t now);

}  // namespace nyx::document
