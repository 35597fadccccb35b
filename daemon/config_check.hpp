#pragma once
// What `nyxd --check-config` checks beyond the schema, without starting the
// node: the directory file verifies as the node would verify it at start
// (its authorities, threshold and the current time), the data directory's
// owner and mode (or that it will be created), and each key file already in
// it (a regular file, mode 0600, the right size, readable). With the
// authority role, that authority.key and the node's link key are one entry of
// directory.authorities; with the relay role, a note for each advertised
// address that is not global. With --bind, also
// that each configured address can be bound (then released).
//
// Each problem is one line naming the file or the key; notes say what the
// node will do (make the data directory). Free functions; any thread.

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/node_config.hpp"

namespace nyx::daemon {

struct ConfigCheck {
  std::vector<std::string> problems;
  std::vector<std::string> notes;
};

// The v1 directory file when one is configured, the data directory and its
// key files, at `now` (unix seconds).
ConfigCheck check_node_files(const NodeConfig& config, std::uint64_t now);

// Binds and releases transport.udp_listen (with UDP on), transport.tcp_listen,
// socks.listen (with the client role) and metrics.listen; a problem per
// address that cannot be bound, naming its key.
ConfigCheck check_binds(const NodeConfig& config);

}  // namespace nyx::daemon
