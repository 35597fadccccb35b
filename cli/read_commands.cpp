#include "cli/read_commands.hpp"

#include <chrono>
#include <utility>

namespace nyx::cli {

void add_read_commands(CLI::App& app, ReadCommands& c) {
  c.status = app.add_subcommand("status", "what the node is: id, roles, addresses, uptime");
  add_node_options(*c.status, c.node);
  c.stats = app.add_subcommand("stats", "every metric of the node");
  add_node_options(*c.stats, c.node);
  c.stats->add_flag("--watch", c.watch, "follow the metrics, redrawing with per-second rates");
  c.stats->add_option("--interval", c.interval_ms, "milliseconds between updates with --watch")
      ->check(CLI::Range(10, 3'600'000))
      ->capture_default_str();
  c.peers = app.add_subcommand("peers", "the node's links to other nodes");
  add_node_options(*c.peers, c.node);
  c.circuits = app.add_subcommand("circuits", "the node's circuits");
  add_node_options(*c.circuits, c.node);
  c.streams = app.add_subcommand("streams", "the node's streams");
  add_node_options(*c.streams, c.node);
}

std::optional<int> run_read_commands(const ReadCommands& c) {
  if (c.status->parsed()) {
    return with_node(c.node,
                     [](auto& client, const auto& output) { return show_status(client, output); });
  }
  if (c.stats->parsed()) {
    return with_node(c.node, [&c](auto& client, const auto& output) {
      return c.watch ? watch_stats(client, std::chrono::milliseconds(c.interval_ms), output)
                     : show_stats(client, output);
    });
  }
  for (const auto& [command, kind] :
       {std::pair{c.peers, ListKind::kPeers}, std::pair{c.circuits, ListKind::kCircuits},
        std::pair{c.streams, ListKind::kStreams}}) {
    if (command->parsed()) {
      return with_node(c.node, [kind](auto& client, const auto& output) {
        return show_list(client, kind, output);
      });
    }
  }
  return std::nullopt;
}

}  // namespace nyx::cli
