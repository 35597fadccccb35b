#pragma once
// Pieces for integration tests that start a network of real nyxd processes on
// 127.0.0.1: listening ports agreed on before any process starts (every node's
// config names the authorities' addresses), an authority's keys written as
// `nyxctl keygen --authority` writes them, and an authenticated control
// connection. Not thread-safe; one test thread uses them.

#include <cstdint>
#include <filesystem>
#include <set>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "daemon/control/control_client.hpp"

namespace nyx::test {

// Ports of 127.0.0.1 free for both UDP and TCP when handed out (a node may
// listen on both), never the same one twice.
class LoopbackPorts {
 public:
  // 0 when no free port was found.
  std::uint16_t next();

 private:
  std::set<std::uint16_t> given_;
};

// The public halves an authority's directory.authorities entry names.
struct AuthorityPublicKeys {
  crypto::Ed25519PublicKey authority{};
  crypto::X25519PublicKey link{};
};

// Makes `data_dir` (0700, parents as needed) an authority's data directory:
// fresh identity.key, link.key and authority.key, 0600, in the formats nyxd
// loads (32-byte Ed25519 seeds and X25519 secret).
Result<AuthorityPublicKeys> write_authority_keys(const std::filesystem::path& data_dir);

// A control connection to the nyxd whose data directory is `data_dir`,
// authenticated with its cookie.
Result<control::ControlClient> connect_control(const std::filesystem::path& data_dir);

}  // namespace nyx::test
