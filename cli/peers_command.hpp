#pragma once
// `nyxctl peers`: the node's links to other nodes (peers.list) as a table or,
// with --json, the raw result. add_peers_command() registers it with CLI11;
// run_peers_command() runs it when it was the command parsed. Not
// thread-safe; the command table owns the PeersCommand.

#include <expected>
#include <optional>

#include "cli/node_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct PeersCommand {
  CLI::App* peers = nullptr;
  NodeOptions node;
};

void add_peers_command(CLI::App& app, PeersCommand& command);

// The exit code when peers was parsed, or nullopt.
std::optional<int> run_peers_command(const PeersCommand& command);

// Calls peers.list once and prints its result.
std::expected<void, Failure> show_peers(control::ControlClient& client,
                                        const OutputOptions& output);

}  // namespace nyx::cli
