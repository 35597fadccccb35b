#pragma once
// SignedDescriptor: what a relay says about itself, signed with its own
// Ed25519 identity key (proposal 0002 section 3.2; docs/protocol.md,
// "Signed descriptor"): its addresses, roles, family, exit rules, bandwidth
// weight, the onion keys of the epoch it is for and of the next one, and
// when it was signed. Tor's self-signed router descriptors (dir-spec
// section 2.1) are the model; the encoding is binary and canonical.
//
// parse_and_verify() refuses a descriptor that is not signed by the identity
// key it names. Only a vote or a consensus, which check the signatures of
// all their entries after cheaper checks, read one with parse_unverified()
// and verify_signature() apart. sign() takes the identity key pair
// (its secret stays in SecretBytes) and refuses any other key.
//
// A value type with no secrets; immutable once signed (changing a field
// makes the signature wrong, and encode() then gives bytes nobody accepts).
// Functions are thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "document/descriptor.hpp"
#include "document/exit_rules.hpp"
#include "document/node_address.hpp"

namespace nyx::document {

// Error codes carried in Error::code by parse_and_verify and check_published.
enum class DescriptorErrc : int {
  kMalformed = 1,     // kParse: bytes that do not follow the format (the message names the field)
  kBadSignature = 2,  // kCrypto: not signed by the identity key it names
  kClock = 3,         // kTimeout: published outside the accepted window
};

// Ed25519 signs kDescriptorSignatureContext || every byte before the signature.
inline constexpr std::string_view kDescriptorSignatureContext = "nyx-descriptor-v2";
inline constexpr std::uint8_t kDescriptorVersion2 = 2;
inline constexpr std::size_t kMinSignedDescriptor = 224;
inline constexpr std::size_t kMaxSignedDescriptor = 4096;
inline constexpr std::size_t kMaxFamily = 64;
inline constexpr std::size_t kMaxDescriptorRules = 64;
inline constexpr std::size_t kMaxDescriptorRuleText = 64;
inline constexpr std::uint8_t kRolesRelay = kRoleRelay;
inline constexpr std::uint8_t kRolesRelayExit = kRoleRelay | kRoleExit;

struct SignedDescriptor {
  crypto::Ed25519PublicKey identity_key{};
  std::uint64_t published = 0;               // Unix seconds when the relay signed it
  std::uint64_t epoch = 0;                   // the period this descriptor is for
  crypto::X25519PublicKey onion_key{};       // onion key of `epoch`
  crypto::X25519PublicKey next_onion_key{};  // onion key of `epoch + 1`
  crypto::X25519PublicKey link_key{};        // static Noise link key
  NodeAddress udp_address;
  NodeAddress tcp_address;
  std::uint8_t roles = kRolesRelay;  // kRolesRelay or kRolesRelayExit
  std::uint32_t bandwidth_weight = 1;
  std::string family;              // [a-z0-9.-]{0,64}; empty is none
  AdvertisedExitRules exit_rules;  // only on an exit, which needs an accept rule
  crypto::Ed25519Signature signature{};

  NodeId node_id() const;  // BLAKE2b-256 of the identity key

  // Every byte before the signature; kInvalidArgument naming the field when
  // a field breaks a rule the parser enforces, so nothing unparseable is
  // ever signed.
  Result<std::vector<std::uint8_t>> encode_unsigned() const;
  // encode_unsigned() || signature: what parse_and_verify() reads.
  Result<std::vector<std::uint8_t>> encode() const;
  // Signs with `identity`, which must be the key pair of identity_key
  // (kInvalidArgument otherwise), and checks the result verifies.
  Status sign(const crypto::Ed25519KeyPair& identity);

  // Parses exactly one descriptor (no trailing bytes) and verifies its
  // signature against the identity key it names. Codes: DescriptorErrc.
  static Result<SignedDescriptor> parse_and_verify(Bytes encoded);
  // The same parse without the signature check, for a vote or a consensus,
  // which run their cheap checks before any Ed25519 work (proposal 0002
  // section 6.3, checks 2 and 8). Its fields are not to be trusted until
  // verify_signature(encoded) holds.
  static Result<SignedDescriptor> parse_unverified(Bytes encoded);
  // kBadSignature unless `encoded`, the bytes this descriptor was parsed
  // from, carries identity_key's signature over everything before it.
  Status verify_signature(Bytes encoded) const;

  // This relay's entry in the hand-signed directory (docs/protocol.md,
  // "Directory"), which carries only the current onion key.
  NodeDescriptor listing() const;
};

// Proposal 0002 section 5.1 check 5: now − max_age ≤ published ≤ now + skew,
// else kClock naming both clocks.
Status check_published(const SignedDescriptor& descriptor, std::uint64_t now, std::uint64_t max_age,
                       std::uint64_t skew);

}  // namespace nyx::document
