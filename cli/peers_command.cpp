#include "cli/peers_command.hpp"

#include <CLI/CLI.hpp>

#include "cli/json_view.hpp"

namespace nyx::cli {

void add_peers_command(CLI::App& app, PeersCommand& command) {
  command.peers = app.add_subcommand("peers", "the node's links to other nodes");
  add_node_options(*command.peers, command.node);
}

std::optional<int> run_peers_command(const PeersCommand& command) {
  if (!command.peers->parsed()) {
    return std::nullopt;
  }
  return with_node(command.node,
                   [](auto& client, const auto& output) { return show_peers(client, output); });
}

std::expected<void, Failure> show_peers(control::ControlClient& client,
                                        const OutputOptions& output) {
  return show_result(client, "peers.list", output,
                     [](const nlohmann::json& peers) { return render_records(peers, "no peers"); });
}

}  // namespace nyx::cli
