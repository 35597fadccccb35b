#pragma once
// Watching a local testnet's running nodes, for the testnet commands
// (cli/testnet.cpp): whether a node's nyxd still runs, one control call to
// it, and the waits of `up`, `add-relay` and `remove` until the nodes answer,
// agree on a consensus and the client is ready, or until the client's
// consensus lists one relay more or fewer. A wait prints its progress to
// `out` and, when it gives up, why (with the end of a node's log) to stderr;
// it stops nothing, so the caller decides what to take down. Free functions;
// they only read the Testnet.

#include <cstddef>
#include <cstdio>
#include <expected>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/exit_code.hpp"
#include "cli/testnet.hpp"
#include "cli/testnet_progress.hpp"
#include "core/error.hpp"

namespace nyx::cli {

// Whether node.pid is still the nyxd of this node (and not a recycled pid).
bool runs_node(const Testnet& testnet, const TestnetNode& node);

// One call on a fresh control connection to `node`; a short timeout keeps
// status quick.
Result<nlohmann::json> ask_node(const Testnet& testnet, const TestnetNode& node,
                                std::string_view method);

// Waits until `node` answers node.info; false (with the reason printed) when
// it exits or the deadline passes.
bool wait_until_answering(const Testnet& testnet, const TestnetNode& node);

// `up`: waits for every node to answer, then for the authorities' first
// consensus on every node, then for the client to be ready, with a progress
// line each; false (with the reason printed) when one does not come up.
bool wait_for_nodes(const Testnet& testnet, TestnetClock::time_point started, std::FILE* out);

// The consensus the client holds now; the exit code to end with (the reason
// printed) when it does not run or holds none.
std::expected<InstalledConsensus, ExitCode> client_consensus_now(const Testnet& testnet);

// `add-relay` and `remove`: waits, with progress on `out`, until the client's
// consensus lists `relays` relays where `before` listed another count;
// false (said) when it does not in time.
bool report_client_lists(const Testnet& testnet, const InstalledConsensus& before,
                         std::size_t relays, TestnetClock::time_point started, std::FILE* out);

}  // namespace nyx::cli
