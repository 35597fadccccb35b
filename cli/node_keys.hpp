#pragma once
// Key generation for operators (nyxctl keygen, nyxctl testnet): a node's long-term
// keys written into its data directory in the files and formats nyxd loads
// (daemon/data_dir.hpp: identity.key holds the Ed25519 seed, link.key and
// onion-<epoch>.key the X25519 secrets; raw bytes, mode 0600, directory 0700),
// and a directory authority's signing key.
//
// Existing keys are never replaced: a node's identity is its name in the
// network. Free functions; thread-safe (no shared state), but not against
// another process writing the same directory.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "document/descriptor.hpp"

namespace nyx::cli {

inline constexpr const char* kIdentityKeyName = "identity.key";
inline constexpr const char* kLinkKeyName = "link.key";
inline constexpr const char* kAuthorityKeyName = "authority.key";

// The onion key file of `epoch` ("onion-0.key"), as the node names it.
std::filesystem::path onion_key_name(std::uint64_t epoch);

// What may be published about a node's keys.
struct NodePublicKeys {
  crypto::Ed25519PublicKey identity{};
  crypto::X25519PublicKey link{};
  crypto::X25519PublicKey onion{};
  std::uint64_t onion_epoch = 0;

  document::NodeId node_id() const;
};

// Creates `dir` (0700) if needed and writes a fresh identity, link and onion
// key into it. kInvalidArgument when any of those files already exists,
// kPermission when `dir` exists and group or others may access it, kIo when
// the system refuses.
Result<NodePublicKeys> generate_node_keys(const std::filesystem::path& dir,
                                          std::uint64_t onion_epoch = 0);

// Writes a fresh authority key (its 32-byte Ed25519 seed, 0600) to `file`,
// whose directory must exist; refuses to replace one. Returns its public key.
Result<crypto::Ed25519PublicKey> generate_authority_key(const std::filesystem::path& file);

// What every node is told of an authority (directory.authorities, proposal
// 0002 section 10.2): its signing key and its node's link key.
struct AuthorityPublicKeys {
  crypto::Ed25519PublicKey authority{};
  crypto::X25519PublicKey link{};
};

// The authority's line of directory.authorities as every node's config
// writes it: `{ key = "...", link = "...", address = "...", tcp_address = "..." },`.
std::string authority_entry_line(std::string_view key_hex, std::string_view link_hex,
                                 std::string_view address, std::string_view tcp_address);

// Makes `dir` an authority's data directory: a fresh authority key in
// dir/authority.key, beside the node's keys: those in `dir` when it has an
// identity key already (a relay becoming an authority), else fresh ones as
// generate_node_keys() writes them. kInvalidArgument, with nothing written,
// when authority.key exists.
Result<AuthorityPublicKeys> generate_authority_keys(const std::filesystem::path& dir);

// Reads an authority key written by generate_authority_key.
Result<crypto::Ed25519KeyPair> load_authority_key(const std::filesystem::path& file);

// Creates `dir` mode 0700 (parents as needed) or checks that an existing one
// is not open to group or others.
Status make_private_dir(const std::filesystem::path& dir);

}  // namespace nyx::cli
