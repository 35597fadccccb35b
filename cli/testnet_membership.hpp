#pragma once
// Which node `nyxctl testnet add-relay` adds to a running local testnet, and
// which node `nyxctl testnet remove` may take out of it (issue #13). Pure, so
// tests check them; cli/testnet.cpp starts and stops the processes.
//
// Ports: `up` gives node K UDP (and TCP) base+K-1 and the client's SOCKS5
// base+N, so a node added later listens one past the highest port any node of
// the testnet was given, removed nodes included: base+N+1, base+N+2, ... No
// port is reused while a consensus may still list the node that had it.
//
// The authority set is in every node's config, so authorities stay; the
// client stays, as do the last exit and the three relays a path needs.
// Free functions; thread-safe (they only read the Testnet).

#include <cstddef>
#include <string>

#include "cli/testnet.hpp"
#include "core/error.hpp"

namespace nyx::cli {

// The node add-relay starts next: node{K+1} after the highest nodeK, roles
// relay (and exit with `exit`), on 127.0.0.1 at the port above. Not yet in
// `testnet.nodes`. kInvalidArgument for a --hosts testnet, when the testnet
// already runs kTestnetMaxNodes nodes or when no port is left.
Result<TestnetNode> plan_added_relay(const Testnet& testnet, bool exit);

// The index in `testnet.nodes` of the node `name`, when remove may stop it;
// kInvalidArgument naming why not (a --hosts testnet, no such node, removed
// already, the client, an authority, the last exit, fewer than three relays
// left).
Result<std::size_t> removable_node(const Testnet& testnet, const std::string& name);

}  // namespace nyx::cli
