#pragma once
// The authority signing key of a node with the authority role (proposal 0002
// section 10.2): the Ed25519 seed in authority.key_file (0600; the parser
// resolves the path against node.data_dir), and the rule that it and the
// node's link key are one entry of directory.authorities. Used where the
// node starts the role and by --check-config, so both refuse the same.

#include <filesystem>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "daemon/node_config.hpp"

namespace nyx::daemon {

// The key pair whose seed `key_file` holds. The key file's errors (missing,
// readable by others, not 32 bytes) name the file; the secret never appears.
Result<crypto::Ed25519KeyPair> read_authority_key(const std::filesystem::path& key_file);

// kConfig, naming both keys, unless one entry of directory.authorities has
// this authority key and this node's link key: the other nodes reach the
// authority at that entry's address and authenticate it by that link key.
Status check_authority_listed(const NodeConfig& config,
                              const crypto::Ed25519PublicKey& authority_key,
                              const crypto::X25519PublicKey& link_key);

}  // namespace nyx::daemon
