#pragma once
// A node descriptor: what the directory says about one node (identity,
// keys, addresses, roles, weight, family, advertised exit rules), and its canonical
// byte encoding (docs/protocol.md, "Directory entry"). It carries no
// signature of its own: an authority makes it from the relay's signed
// descriptor (document/signed_descriptor.hpp) and vouches for it by signing
// the directory.
//
// A value type with no secrets; safe to share once built.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "document/exit_rules.hpp"

namespace nyx::document {

using NodeId = std::array<std::uint8_t, 32>;

enum NodeRole : std::uint8_t {
  kRoleRelay = 0x01,
  kRoleExit = 0x02,
};

struct NodeDescriptor {
  crypto::Ed25519PublicKey identity_key{};
  crypto::X25519PublicKey onion_key{};
  std::uint64_t onion_key_epoch = 0;   // the epoch the onion key serves
  crypto::X25519PublicKey link_key{};  // the transport's static link key
  std::string udp_address;             // "host:port", may be empty
  std::string tcp_address;             // "host:port", may be empty
  std::uint8_t roles = kRoleRelay;     // NodeRole bits
  std::uint32_t bandwidth_weight = 1;
  std::string family;              // nodes of one operator share a family; empty is none
  AdvertisedExitRules exit_rules;  // what the node advertises, not enforces

  // BLAKE2b-256 of the identity key.
  NodeId node_id() const;
  bool is_exit() const noexcept { return (roles & kRoleExit) != 0; }
  bool is_relay() const noexcept { return (roles & kRoleRelay) != 0; }

  // Appends the canonical encoding; kInvalidArgument when a field does not
  // fit its length prefix (addresses, family, rules of over 255 bytes).
  Status encode(std::vector<std::uint8_t>& out) const;
  // Reads one descriptor; kParse when malformed.
  static Result<NodeDescriptor> decode(ByteReader& reader);
};

}  // namespace nyx::document
